import type { TenantId } from './tenant.js';

/**
 * Where the tenant is scoped, in one place.
 *
 * The MCP function's own role can reach no tenant data. For each request it assumes the
 * data-access role with the session tag `TenantId=<tenant>` (tenant-credentials.ts), and that
 * role's policy (lib/constructs/tenant-isolation.ts) allows the actions below on the tenant
 * data table only where every partition key (`dynamodb:LeadingKeys`) equals the tag. So a
 * request for another tenant's partition is refused by IAM, whatever the code asked for.
 */

/** The session tag, named in the role's trust policy and in its permission conditions. */
export const TENANT_TAG_KEY = 'TenantId';

/** Item-level actions the data-access role may use on the tenant data table. Never Scan. */
export const TENANT_DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** Names the tenant in CloudTrail, so every data access is attributable. At most 64 chars. */
export function roleSessionName(tenantId: TenantId): string {
  return `tenant-${tenantId}`;
}
