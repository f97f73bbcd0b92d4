import { tierAllowsTool } from '../../shared/fair-use/tiers.js';
import type { TenantContext } from '../../shared/tenancy/context.js';
import { integrationsSet, notesPublish } from './integrations.js';
import { notesCreate, notesDelete, notesGet, notesList, notesSearch } from './notes.js';
import {
  tenantInfo,
  tenantInvitationsList,
  tenantInvitationsRevoke,
  tenantUsersInvite,
  tenantUsersList,
  tenantUsersRemove,
  tenantUsersSetRole,
} from './tenant.js';
import type { ToolDefinition } from './tool.js';
import { usageReport } from './usage.js';
import { whoami } from './whoami.js';

/** Every tool the server implements. Which of them a caller sees depends on tier and role. */
export const TOOLS: readonly ToolDefinition[] = [
  whoami,
  notesCreate,
  notesGet,
  notesList,
  notesSearch,
  notesDelete,
  tenantInfo,
  tenantUsersList,
  tenantUsersInvite,
  tenantUsersSetRole,
  tenantUsersRemove,
  tenantInvitationsList,
  tenantInvitationsRevoke,
  integrationsSet,
  notesPublish,
  usageReport,
];

/** The tools this caller may see and call: allowed by the tenant's tier and the user's role. */
export function toolsFor(context: Pick<TenantContext, 'tier' | 'role'>): ToolDefinition[] {
  return TOOLS.filter(
    (tool) =>
      tierAllowsTool(context.tier, tool.name) &&
      (tool.requiredRole === undefined || tool.requiredRole === context.role),
  );
}
