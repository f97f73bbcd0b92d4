import { Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import {
  ArnPrincipal,
  Effect,
  Grant,
  type IRole,
  PolicyStatement,
  Role,
  SessionTagsPrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REGISTRY_TABLE } from '../../lambda/shared/platform/table-schema.js';
import {
  ENCRYPTION_CONTEXT_KEY,
  TENANT_DATA_ACTIONS,
  TENANT_SECRET_PREFIX,
  TENANT_TAG_KEY,
} from '../../lambda/shared/tenancy/isolation.js';
import { acknowledgeWildcardResources } from '../nag.js';

export interface TenantIsolationProps {
  /** The tenant data table, partitioned by exactly the tenant id. */
  readonly dataTable: ITableV2;
  /** The registry: a session may read its own tenant's item and member list there. */
  readonly registryTable: ITableV2;
  /** The role that may assume the data-access role (the MCP function's). */
  readonly callerRole: IRole;
}

/** The session tag as an IAM policy variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
const TENANT_TAG = '${aws:PrincipalTag/TenantId}';

/**
 * The tenant-isolation policies, in one reviewed file (see lambda/shared/tenancy/isolation.ts).
 *
 * The data-access role is the only principal with access to tenant data. It can be assumed
 * only by the caller role, only with a `TenantId` session tag, and with no other tag. Its
 * permissions allow item actions on the data table only where every partition key equals the
 * session's tag: `ForAllValues:StringEquals` on `dynamodb:LeadingKeys` (exact match, so
 * `acme` never matches `acme-eu`), plus a `Null` check, because `ForAllValues` holds for a
 * request with no keys at all. There is no Scan and no index access.
 */
export class TenantIsolation extends Construct {
  readonly dataAccessRole: Role;

  constructor(scope: Construct, id: string, props: TenantIsolationProps) {
    super(scope, id);

    this.dataAccessRole = new Role(this, 'DataAccessRole', {
      description: 'Per-request access to one tenant partition, scoped by the TenantId session tag',
      assumedBy: new SessionTagsPrincipal(
        new ArnPrincipal(props.callerRole.roleArn),
      ).withConditions({
        // The tag must be present and non-empty ...
        StringLike: { [`aws:RequestTag/${TENANT_TAG_KEY}`]: '?*' },
        // ... and no other tag may ride along.
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG_KEY] },
      }),
    });

    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'OwnTenantPartitionOnly',
        actions: [...TENANT_DATA_ACTIONS],
        resources: [props.dataTable.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [TENANT_TAG] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    );

    // Tenant keys' policies allow this role to use a key only in a session tagged with the
    // key's tenant and with that tenant as encryption context. This explicit Deny makes the
    // context rule hold for every key, whatever a key policy says. It applies only where a
    // tenantId context is present: services that use AWS managed keys on the role's behalf
    // (Secrets Manager, DynamoDB) send their own context without it.
    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'NoOtherTenantsEncryptionContext',
        effect: Effect.DENY,
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'],
        resources: ['*'],
        conditions: {
          StringNotEquals: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: TENANT_TAG },
          Null: { [`kms:EncryptionContext:${ENCRYPTION_CONTEXT_KEY}`]: 'false' },
        },
      }),
    );

    // Secrets: only under the session's own tenant path, and new ones tagged with the tenant.
    const { partition, region, account } = Stack.of(this);
    const ownSecrets = `arn:${partition}:secretsmanager:${region}:${account}:secret:${TENANT_SECRET_PREFIX}/${TENANT_TAG}/*`;
    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'OwnTenantSecretsOnly',
        actions: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:DescribeSecret',
        ],
        resources: [ownSecrets],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${TENANT_TAG_KEY}`]: TENANT_TAG },
        },
      }),
    );
    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'CreateOwnTenantSecretsTagged',
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        resources: [ownSecrets],
        conditions: {
          StringEquals: { [`aws:RequestTag/${TENANT_TAG_KEY}`]: TENANT_TAG },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG_KEY] },
        },
      }),
    );
    acknowledgeWildcardResources(
      this.dataAccessRole,
      [ownSecrets],
      "Secrets Manager appends a random suffix to each secret's ARN; the path is the session's own tenant's.",
    );

    // In the registry, a session reads its own tenant's record and member list: the tenant
    // item's key and the byTenant index partition are both `TENANT#<tenant id>`.
    const ownRegistryPartition = {
      'ForAllValues:StringEquals': {
        'dynamodb:LeadingKeys': [`${REGISTRY_TABLE.tenantKeyPrefix}${TENANT_TAG}`],
      },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    };
    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'OwnTenantRecordOnly',
        actions: ['dynamodb:GetItem'],
        resources: [props.registryTable.tableArn],
        conditions: ownRegistryPartition,
      }),
    );
    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'OwnTenantMembersOnly',
        actions: ['dynamodb:Query'],
        resources: [
          `${props.registryTable.tableArn}/index/${REGISTRY_TABLE.byTenantIndex.indexName}`,
        ],
        conditions: ownRegistryPartition,
      }),
    );

    // And its own invitations (offers and their daily count): `INVITES#<tenant id>` exactly.
    this.dataAccessRole.addToPolicy(
      new PolicyStatement({
        sid: 'OwnTenantInvitationsOnly',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [props.registryTable.tableArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': [`${REGISTRY_TABLE.invitesKeyPrefix}${TENANT_TAG}`],
          },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    );

    Grant.addToPrincipal({
      grantee: props.callerRole,
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resourceArns: [this.dataAccessRole.roleArn],
    });
  }
}
