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
 * - the provisioner may describe it, alias it, and disable it and schedule it for deletion (a
 *   duplicate, or the key of a tenant that moved to a pooled tier);
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
      accountAdministers(`arn:${partition}:iam::${account}:root`),
      {
        Sid: 'ProvisionerManages',
        Effect: 'Allow',
        Principal: { AWS: options.provisionerRoleArn },
        // Disabling and deleting the alias retire the key when its tenant moves to a pooled tier.
        Action: [
          'kms:DescribeKey',
          'kms:CreateAlias',
          'kms:DeleteAlias',
          'kms:DisableKey',
          'kms:ScheduleKeyDeletion',
        ],
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

/**
 * The key policy of the one pooled KMS key, which wraps the data keys of pooled tiers' tenants
 * (crypto.ts). The account administers it as it does a tenant key (no use without a policy
 * change); the data-access role may make and open data keys with it only with its session's own
 * tenant as encryption context: `kms:EncryptionContext:tenantId` equal to the session tag
 * `${aws:PrincipalTag/TenantId}` (the data-access policy's Deny says the same for every key).
 * So a pooled tenant's wrapped key is useless to any other tenant's session, and to everyone
 * once it is deleted.
 */
export function pooledKeyPolicy(options: {
  dataAccessRoleArn: string;
  /** `arn:<partition>:iam::<account>:root` (in CDK a token: never split it). */
  accountRootArn: string;
}): {
  Version: string;
  Statement: Record<string, unknown>[];
} {
  return {
    Version: '2012-10-17',
    Statement: [
      accountAdministers(options.accountRootArn),
      {
        // Nobody uses it through a grant, which would bypass this policy's conditions.
        Sid: 'NoGrantsExceptForAwsServices',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      },
      {
        Sid: 'OwnTenantContextOnly',
        Effect: 'Allow',
        Principal: { AWS: options.dataAccessRoleArn },
        Action: ['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext'],
        Resource: '*',
        Condition: {
          StringEquals: {
            [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: `\${aws:PrincipalTag/${TENANT_TAG_KEY}}`,
          },
          Null: {
            [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: 'false',
            [`aws:PrincipalTag/${TENANT_TAG_KEY}`]: 'false',
          },
        },
      },
    ],
  };
}

/**
 * The account administers a key (describe, disable, tag, change the policy, schedule deletion)
 * but may not use it: that would take a policy change, which CloudTrail records.
 */
function accountAdministers(accountRootArn: string) {
  return {
    Sid: 'AccountAdministers',
    Effect: 'Allow',
    Principal: { AWS: accountRootArn },
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
  };
}

/** Secrets Manager names of tenant secrets: `<prefix>/<tenant id>/<name>`. */
export const TENANT_SECRET_PREFIX = 'mcp-tenants';

export function tenantSecretName(tenantId: TenantId, name: string): string {
  return `${TENANT_SECRET_PREFIX}/${tenantId}/${name}`;
}
