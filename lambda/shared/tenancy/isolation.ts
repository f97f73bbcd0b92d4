import type { TenantId } from './tenant.js';

/**
 * Where the tenant is scoped, in one place.
 *
 * The MCP function's own role can reach no tenant data. For each request it assumes the
 * data-access role with the session tag `TenantId=<tenant>` (credentials.ts), and that
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

/** The alias of a tenant's own KMS key. */
export function tenantKeyAlias(tenantId: TenantId): string {
  return `alias/tenant/${tenantId}`;
}

/** The encryption context every use of a tenant's key must carry. */
export const ENCRYPTION_CONTEXT_KEY = 'tenantId';

/**
 * The key policy of a tenant's KMS key, set when the key is created (key policies apply at
 * once; grants through tags can take minutes). Three statements:
 *
 * - the account administers the key (describe, disable, tag, change the policy, schedule
 *   deletion) but no statement lets it encrypt or decrypt: using the key would take a policy
 *   change, which CloudTrail records;
 * - the provisioner may describe it, alias it and schedule a duplicate for deletion;
 * - the data-access role may encrypt and decrypt only in a session tagged with this tenant
 *   and only with this tenant in the encryption context.
 */
export function tenantKeyPolicy(options: {
  tenantId: TenantId;
  dataAccessRoleArn: string;
  provisionerRoleArn: string;
}): string {
  const [, partition, , , account] = options.dataAccessRoleArn.split(':');
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministers',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: [
          'kms:Describe*',
          'kms:Get*',
          'kms:List*',
          'kms:Put*',
          'kms:Update*',
          'kms:Enable*',
          'kms:Disable*',
          'kms:TagResource',
          'kms:UntagResource',
          'kms:CreateAlias',
          'kms:DeleteAlias',
          'kms:ScheduleKeyDeletion',
          'kms:CancelKeyDeletion',
        ],
        Resource: '*',
      },
      {
        Sid: 'ProvisionerManages',
        Effect: 'Allow',
        Principal: { AWS: options.provisionerRoleArn },
        Action: ['kms:DescribeKey', 'kms:CreateAlias', 'kms:ScheduleKeyDeletion'],
        Resource: '*',
      },
      {
        Sid: 'OwnTenantOnly',
        Effect: 'Allow',
        Principal: { AWS: options.dataAccessRoleArn },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: {
          StringEquals: {
            [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: options.tenantId,
            [`aws:PrincipalTag/${TENANT_TAG_KEY}`]: options.tenantId,
          },
        },
      },
    ],
  });
}

/** Secrets Manager names of tenant secrets: `<prefix>/<tenant id>/<name>`. */
export const TENANT_SECRET_PREFIX = 'mcp-tenants';

export function tenantSecretName(tenantId: TenantId, name: string): string {
  return `${TENANT_SECRET_PREFIX}/${tenantId}/${name}`;
}
