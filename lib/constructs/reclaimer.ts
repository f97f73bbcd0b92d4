import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RECLAIMER_CONFIG } from '../../lambda/reclaimer/config.js';
import type { TierName } from '../../lambda/shared/fair-use/tiers.js';
import { RECLAIM_KEY_PREFIX } from '../../lambda/shared/lifecycle/reclaim-notices.js';
import { RECLAIM_DEFAULTS } from '../../lambda/shared/lifecycle/reclaim-settings.js';
import { MANAGED_BY } from '../../lambda/shared/lifecycle/tenant-resources.js';
import { REGISTRY_TABLE, TENANT_DATA_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { TENANT_SECRET_PREFIX, TENANT_TAG_KEY } from '../../lambda/shared/tenancy/isolation.js';
import { acknowledgeWildcardResources, grantStatements } from '../nag.js';
import { asyncDeadLetters } from './async-dead-letters.js';
import { HandlerFunction } from './handler-function.js';
import { leadingKeysLike } from './leading-keys.js';

export interface ReclaimerProps {
  readonly registryTable: ITableV2;
  /** Where metering keeps each tenant's days with calls (read only). */
  readonly usageTable: ITableV2;
  /** Tenant data: offboarding deletes the reclaimed tenant's partition. */
  readonly dataTable: ITableV2;
  /** Offboarding disables and signs out the tenant's users. */
  readonly userPool: IUserPool;
  /** Offboarding takes an API key out of its tier's plan. */
  readonly usagePlanIds: Readonly<Record<TierName, string>>;
  /**
   * The address notices come from: an SES identity verified in this account and Region (the
   * address or its domain). The reclaimer may send from it and from no other.
   */
  readonly noticeSender: string;
  /** Days without use before a free tenant is noticed. @default 90 */
  readonly idleDays?: number;
  /** Days between the notice and the removal. @default 14 */
  readonly noticeDays?: number;
  /** Tenants noticed or reclaimed per run; the rest wait a day. @default 100 */
  readonly maxTenantsPerRun?: number;
  /** The MCP endpoint, named in the notice. @default - not named */
  readonly mcpUrl?: string;
  /** When it runs. @default every day at 03:17 UTC */
  readonly schedule?: Schedule;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (the function's log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Idle free tenants reclaimed, with notice: a function run daily by an EventBridge schedule
 * (lambda/reclaimer) notices free tenants unused for `idleDays` by e-mail (Amazon SES) and
 * offboards those still unused `noticeDays` later. Its role holds what that needs and no more:
 * the registry's tenant list, member lists and its own RECLAIM# items; reads of the usage
 * counters; sending from the one sender; and what offboarding does (the operator CLI's
 * TenantAdmin.offboard), each action held to the tenants' resources. A failed run is retried
 * twice, then lands in a dead-letter queue with an alarm.
 */
export class Reclaimer extends Construct {
  readonly function: HandlerFunction<typeof RECLAIMER_CONFIG>;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: ReclaimerProps) {
    super(scope, id);
    this.function = new HandlerFunction(this, 'Function', {
      entry: 'reclaimer',
      config: RECLAIMER_CONFIG,
      description: 'Notices idle free tenants, and offboards them when the notice period passes',
      // Offboarding waits the access drain time: the run offboards a few tenants at a time and
      // starts none it could not finish (the next run resumes any that stop part way).
      timeout: Duration.minutes(15),
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        USAGE_TABLE_NAME: props.usageTable.tableName,
        DATA_TABLE_NAME: props.dataTable.tableName,
        USER_POOL_ID: props.userPool.userPoolId,
        USAGE_PLAN_IDS: Stack.of(this).toJsonString(props.usagePlanIds),
        IDLE_DAYS: String(props.idleDays ?? RECLAIM_DEFAULTS.idleDays),
        NOTICE_DAYS: String(props.noticeDays ?? RECLAIM_DEFAULTS.noticeDays),
        NOTICE_SENDER: props.noticeSender,
        MAX_TENANTS_PER_RUN: String(props.maxTenantsPerRun ?? RECLAIM_DEFAULTS.maxTenantsPerRun),
        ...(props.mcpUrl ? { MCP_URL: props.mcpUrl } : {}),
      },
      removalPolicy: props.removalPolicy,
    });
    const failures = asyncDeadLetters(this, this.function.fn, {
      owner: 'the reclaimer',
      alarmDescription:
        'Idle free tenants could not all be noticed or reclaimed: see the reclaimer logs; ' +
        'the next daily run resumes',
    });
    this.deadLetterQueue = failures.queue;
    this.deadLetterAlarm = failures.alarm;
    this.grantReclaiming(props);
    this.schedule = new Rule(this, 'Schedule', {
      description: 'Notice idle free tenants, and reclaim those noticed long enough ago',
      schedule: props.schedule ?? Schedule.cron({ hour: '3', minute: '17' }),
      targets: [new LambdaFunction(this.function.fn)],
    });
  }

  /** What noticing and offboarding need: each statement names its resources and conditions. */
  private grantReclaiming(props: ReclaimerProps): void {
    const { region, account, partition } = Stack.of(this);
    const { add, resources: wildcards } = grantStatements(this.function.fn);
    const registry = props.registryTable.tableArn;
    const { tenantKeyPrefix, userKeyPrefix, invitesKeyPrefix, agentsKeyPrefix } = REGISTRY_TABLE;

    // The tenant list and each tenant's member list (the byTenant index, never a Scan).
    add(['dynamodb:Query'], [`${registry}/index/${REGISTRY_TABLE.byTenantIndex.indexName}`], {
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': [REGISTRY_TABLE.allTenantsKey, `${tenantKeyPrefix}*`],
      },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    // Its own notices.
    add(
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [registry],
      leadingKeysLike(RECLAIM_KEY_PREFIX),
    );
    // Offboarding, as TenantAdmin.offboard does it: the record's status, the memberships, the
    // pending invitations and the agents.
    add(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [registry], leadingKeysLike(tenantKeyPrefix));
    add(['dynamodb:DeleteItem'], [registry], leadingKeysLike(userKeyPrefix));
    add(['dynamodb:Query', 'dynamodb:UpdateItem'], [registry], leadingKeysLike(invitesKeyPrefix));
    add(['dynamodb:Query', 'dynamodb:DeleteItem'], [registry], leadingKeysLike(agentsKeyPrefix));

    // The month items metering writes, with each month's days with calls: read only.
    add(['dynamodb:Query'], [props.usageTable.tableArn], leadingKeysLike('BUDGET#'));

    // A reclaimed tenant's partition of the data table is deleted. Any tenant's partition may be
    // (the reclaimer picks the tenant), but only keys: a query may return no attribute but the
    // key (dynamodb:Select, dynamodb:Attributes) and a batch write may carry no other attribute,
    // so the role can list and delete items, never read or write what tenants stored. Tenant
    // sessions (the data-access role, per tenant) are not used: their trust names only the MCP
    // function's role, and their KMS rights would let this role read plaintext.
    add(['dynamodb:Query', 'dynamodb:BatchWriteItem'], [props.dataTable.tableArn], {
      'ForAllValues:StringEquals': {
        'dynamodb:Attributes': [TENANT_DATA_TABLE.partitionKey, TENANT_DATA_TABLE.sortKey],
      },
      StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
    });

    // The tenant's users: disabled and signed out.
    add(
      ['cognito-idp:AdminDisableUser', 'cognito-idp:AdminUserGlobalSignOut'],
      [props.userPool.userPoolArn],
    );

    // Its API key, if it has one: found by name, disabled, taken out of its plan and deleted,
    // only if this service created it.
    const apigw = `arn:${partition}:apigateway:${region}::`;
    const ours = { StringEquals: { [`aws:ResourceTag/${MANAGED_BY.key}`]: MANAGED_BY.value } };
    add(['apigateway:GET'], [`${apigw}/apikeys`]);
    add(['apigateway:PATCH', 'apigateway:DELETE'], [`${apigw}/apikeys/*`], ours);
    add(
      ['apigateway:DELETE'],
      Object.values(props.usagePlanIds).map((planId) => `${apigw}/usageplans/${planId}/keys/*`),
    );

    // Its KMS key, if it has one (the account's key policy statement delegates these to IAM):
    // only keys this service made for a tenant, never the pooled or a signing key.
    const tenantKeys = {
      StringEquals: { [`aws:ResourceTag/${MANAGED_BY.key}`]: MANAGED_BY.value },
      Null: { [`aws:ResourceTag/${TENANT_TAG_KEY}`]: 'false' },
    };
    const keys = `arn:${partition}:kms:${region}:${account}:key/*`;
    add(
      ['kms:DescribeKey', 'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'kms:DeleteAlias'],
      [keys],
      tenantKeys,
    );
    add(['kms:DeleteAlias'], [`arn:${partition}:kms:${region}:${account}:alias/tenant/*`]);
    add(['tag:GetResources'], ['*']);

    // Its secrets, by their path.
    add(['secretsmanager:ListSecrets'], ['*']);
    add(
      ['secretsmanager:DeleteSecret'],
      [`arn:${partition}:secretsmanager:${region}:${account}:secret:${TENANT_SECRET_PREFIX}/*`],
    );

    // The notice: from the one sender (its address or its domain may be the verified identity).
    const sender = props.noticeSender;
    const identity = `arn:${partition}:ses:${region}:${account}:identity`;
    add(
      ['ses:SendEmail'],
      [`${identity}/${sender}`, `${identity}/${sender.slice(sender.lastIndexOf('@') + 1)}`],
      { StringEquals: { 'ses:FromAddress': sender } },
    );

    acknowledgeWildcardResources(
      this.function.role,
      wildcards,
      'Offboarding a reclaimed tenant reaches resources made at run time, per tenant: API keys ' +
        '(only those tagged ManagedBy=multi-tenant-mcp), usage plan keys of the three tier ' +
        'plans, KMS keys (only those tagged ManagedBy and TenantId, never the pooled or a ' +
        'signing key), aliases under alias/tenant/, and secrets under mcp-tenants/. ' +
        'tag:GetResources and secretsmanager:ListSecrets accept only "*".',
    );
  }
}
