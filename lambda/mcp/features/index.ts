import type { TenantContext } from '../../shared/tenancy/context.js';
import { agents } from './agents/index.js';
import { audit } from './audit/index.js';
import {
  type Access,
  agentMay,
  allows,
  type Feature,
  type PromptDefinition,
  type ResourceDefinition,
  type ToolDefinition,
} from './feature.js';
import { integrations } from './integrations/index.js';
import { notes } from './notes/index.js';
import { organisation } from './organisation/index.js';
import { tasks } from './tasks/index.js';
import { usage } from './usage/index.js';
import { whoami } from './whoami/index.js';

/** Every feature the server serves. A new feature is one line here. */
export const FEATURES: readonly Feature[] = [
  whoami,
  notes,
  organisation,
  integrations,
  usage,
  tasks,
  agents,
  audit,
];

export interface Served {
  readonly tools: readonly ToolDefinition[];
  readonly resources: readonly ResourceDefinition[];
  readonly prompts: readonly PromptDefinition[];
}

/** What each tier and role may use: the same for every request of it, so worked out once. */
const served = new Map<string, Served>();

/**
 * What this caller may see and use, across every feature: allowed by tier and role, and for an
 * agent (or a delegation to one) exactly its granted tools, with no resource or prompt.
 */
export function servedTo(
  caller: Pick<TenantContext, 'tier' | 'role' | 'agentId' | 'agentTools' | 'agentAccess'>,
): Served {
  const base = servedToRole(caller);
  if (caller.agentId === undefined) return base;
  return {
    tools: base.tools.filter((tool) => agentMay(tool, caller)),
    resources: [],
    prompts: [],
  };
}

function servedToRole(caller: Pick<TenantContext, 'tier' | 'role'>): Served {
  const key = `${caller.tier} ${caller.role}`;
  const known = served.get(key);
  if (known) return known;
  const allowed = <T extends Access>(parts: readonly T[] | undefined) =>
    (parts ?? []).filter((part) => allows(part, caller));
  const parts: Served = {
    tools: FEATURES.flatMap((feature) => allowed(feature.tools)),
    resources: FEATURES.flatMap((feature) => allowed(feature.resources)),
    prompts: FEATURES.flatMap((feature) => allowed(feature.prompts)),
  };
  served.set(key, parts);
  return parts;
}
