import { REGISTRY_TABLE } from '../platform/table-schema.js';
import {
  ENCRYPTION_CONTEXT_KEY,
  TENANT_DATA_ACTIONS,
  TENANT_SECRET_PREFIX,
  TENANT_TAG_KEY,
} from './isolation.js';

/**
 * The data-access role's policies as plain IAM JSON, built in one place: CDK attaches exactly
 * these statements and trust conditions (lib/constructs/tenant-isolation.ts); an infra test
 * proves the synthesized role holds exactly them, and the IAM-evaluation tests and the local
 * stand-ins (local/deployed-contract.ts) decide requests with that synthesized policy. A rule
 * changed here changes everywhere, and nowhere else holds a copy of it.
 */

/** The session tag as an IAM policy variable. */
export const TENANT_TAG_VARIABLE = `\${aws:PrincipalTag/${TENANT_TAG_KEY}}`;

export interface DataAccessResources {
  /** The tenant data table, partitioned by exactly the tenant id. */
  readonly dataTableArn: string;
  /** The registry: the tenant's own record, member list and invitations. */
  readonly registryTableArn: string;
  /** The audit trail, partitioned by exactly the tenant id: the session may only read it. */
  readonly auditTableArn: string;
  /** `arn:<partition>:secretsmanager:<region>:<account>:secret:` */
  readonly secretArnPrefix: string;
}

export interface PolicyStatementJson {
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** Only where every partition key the request touches equals `value` exactly (and one does). */
function leadingKeysEqual(value: string) {
  return {
    // Exact match: `acme` never matches `acme-eu`. `ForAllValues` alone would hold for a request
    // with no keys at all, hence the Null check.
    'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [value] },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  };
}

/** The secrets of the session's own tenant: `<prefix>/<tenant>/*` (AWS appends a suffix). */
export function ownSecretsArn(secretArnPrefix: string): string {
  return `${secretArnPrefix}${TENANT_SECRET_PREFIX}/${TENANT_TAG_VARIABLE}/*`;
}

/**
 * What a session tagged `TenantId=<t>` may do, and nothing else: item actions on `<t>`'s
 * partition of the data table (never Scan, never an index); its own record and member list in
 * the registry; its own invitations and agents; its own secrets, new ones tagged with it; and no use of
 * any KMS key with another tenant's encryption context.
 */
export function dataAccessPolicy(resources: DataAccessResources): readonly PolicyStatementJson[] {
  const tag = TENANT_TAG_VARIABLE;
  const ownSecrets = ownSecretsArn(resources.secretArnPrefix);
  const byTenantIndex = `${resources.registryTableArn}/index/${REGISTRY_TABLE.byTenantIndex.indexName}`;
  return [
    {
      Sid: 'OwnTenantPartitionOnly',
      Effect: 'Allow',
      Action: [...TENANT_DATA_ACTIONS],
      Resource: [resources.dataTableArn],
      Condition: leadingKeysEqual(tag),
    },
    {
      // Its own audit trail, read only: no write action at all (the audit function appends).
      Sid: 'OwnTenantAuditTrailReadOnly',
      Effect: 'Allow',
      Action: ['dynamodb:Query'],
      Resource: [resources.auditTableArn],
      Condition: leadingKeysEqual(tag),
    },
    {
      // Tenant keys' policies allow the role a key only in a session tagged with the key's
      // tenant and with that tenant as encryption context; this makes the context rule hold
      // for every key, whatever a key policy says. Only where a tenantId context is present:
      // services that use AWS managed keys for the role (Secrets Manager, DynamoDB) send
      // their own context without it.
      Sid: 'NoOtherTenantsEncryptionContext',
      Effect: 'Deny',
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: ['*'],
      Condition: {
        StringNotEquals: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: tag },
        Null: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: 'false' },
      },
    },
    {
      Sid: 'OwnTenantSecretsOnly',
      Effect: 'Allow',
      Action: [
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DescribeSecret',
      ],
      Resource: [ownSecrets],
      Condition: { StringEquals: { [`aws:ResourceTag/${TENANT_TAG_KEY}`]: tag } },
    },
    {
      Sid: 'CreateOwnTenantSecretsTagged',
      Effect: 'Allow',
      Action: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      Resource: [ownSecrets],
      Condition: {
        StringEquals: { [`aws:RequestTag/${TENANT_TAG_KEY}`]: tag },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG_KEY] },
      },
    },
    {
      // The tenant item's key and the byTenant index partition are both `TENANT#<tenant id>`.
      Sid: 'OwnTenantRecordOnly',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem'],
      Resource: [resources.registryTableArn],
      Condition: leadingKeysEqual(`${REGISTRY_TABLE.tenantKeyPrefix}${tag}`),
    },
    {
      Sid: 'OwnTenantMembersOnly',
      Effect: 'Allow',
      Action: ['dynamodb:Query'],
      Resource: [byTenantIndex],
      Condition: leadingKeysEqual(`${REGISTRY_TABLE.tenantKeyPrefix}${tag}`),
    },
    {
      // Offers and their daily count: `INVITES#<tenant id>` exactly.
      Sid: 'OwnTenantInvitationsOnly',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      Resource: [resources.registryTableArn],
      Condition: leadingKeysEqual(`${REGISTRY_TABLE.invitesKeyPrefix}${tag}`),
    },
    {
      // Its agents (lambda/shared/registry/agents.ts): `AGENTS#<tenant id>` exactly.
      Sid: 'OwnTenantAgentsOnly',
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
      Resource: [resources.registryTableArn],
      Condition: leadingKeysEqual(`${REGISTRY_TABLE.agentsKeyPrefix}${tag}`),
    },
  ];
}

/**
 * The trust policy's conditions: the caller must tag the session with a non-empty `TenantId`
 * and with no other tag.
 */
export const DATA_ACCESS_TRUST_CONDITIONS = {
  StringLike: { [`aws:RequestTag/${TENANT_TAG_KEY}`]: '?*' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG_KEY] },
} as const;
