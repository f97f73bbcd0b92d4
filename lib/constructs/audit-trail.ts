import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterPattern, LogGroup, RetentionDays, SubscriptionFilter } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_CONFIG } from '../../lambda/audit/config.js';
import { AUDIT_RECORD } from '../../lambda/shared/audit/audit-record.js';
import { AUDIT_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { asyncDeadLetters } from './async-dead-letters.js';
import { acknowledgeLogGroupFindings, HandlerFunction } from './handler-function.js';

export interface AuditTrailProps {
  /**
   * The functions whose log groups carry audit records: the MCP function (every call) and the
   * authorizer (its denials).
   */
  readonly sources: readonly HandlerFunction[];
  /**
   * How long records are kept: DynamoDB's TTL deletes a record this many days after it was
   * written. @default 365
   */
  readonly retentionDays?: number;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (the table and the log groups) */
  readonly removalPolicy?: RemovalPolicy;
}

/** The subscription filter pattern: a top-level `record` field naming an audit record. */
export const AUDIT_FILTER_PATTERN = FilterPattern.stringValue('$.record', '=', AUDIT_RECORD);

/**
 * Item actions that change or remove what is there. The audit table's resource policy denies
 * them to every principal, so no role of the application (nor an operator's) can edit or erase
 * a record; only DynamoDB's own TTL process removes records, after the retention period.
 */
export const AUDIT_MUTATIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLInsert',
] as const;

/**
 * The audit trail: a table of its own (one partition per tenant, exactly its id), the audit
 * function subscribed to the MCP function's log group, and a dead-letter queue with an alarm.
 * Records reach it off the request path (see lambda/shared/audit/audit-record.ts); the audit
 * function may only put items, conditionally; the tenant-scoped session may only query its own
 * partition (lambda/shared/tenancy/policy.ts).
 */
export class AuditTrail extends Construct {
  readonly table: TableV2;
  readonly function: HandlerFunction<typeof AUDIT_CONFIG>;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  /** Where the operator CLI writes its actions' records (the audit function appends them). */
  readonly operatorLog: LogGroup;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const retentionDays = props.retentionDays ?? 365;
    this.function = new HandlerFunction(this, 'Function', {
      entry: 'audit',
      config: AUDIT_CONFIG,
      description: 'Appends the audit records of the MCP function logs to the audit trail',
      timeout: Duration.seconds(60),
      environment: { AUDIT_RETENTION_DAYS: String(retentionDays) },
      removalPolicy: props.removalPolicy,
    });
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: AUDIT_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: AUDIT_TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: AUDIT_TABLE.timeToLiveAttribute,
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
      encryption: TableEncryptionV2.awsManagedKey(),
      resourcePolicy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'AppendOnly',
            effect: Effect.DENY,
            principals: [new AnyPrincipal()],
            actions: [...AUDIT_MUTATIONS],
            resources: ['*'],
          }),
          new PolicyStatement({
            // The one way in is the audit function: no other principal, an administrator's
            // included, may put (a put replaces an item that is there).
            sid: 'OnlyTheAuditFunctionAppends',
            effect: Effect.DENY,
            principals: [new AnyPrincipal()],
            actions: ['dynamodb:PutItem'],
            resources: ['*'],
            conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.function.role.roleArn } },
          }),
        ],
      }),
    });

    this.function.setEnvironment('AUDIT_TABLE_NAME', this.table.tableName);
    const failures = asyncDeadLetters(this, this.function.fn, {
      owner: 'the audit function',
      alarmDescription:
        'Audit records could not be appended: see the audit function logs, then replay the delivery',
    });
    this.deadLetterQueue = failures.queue;
    this.deadLetterAlarm = failures.alarm;
    // PutItem only: the one way in. Every put is conditional on the key being new (in code:
    // IAM has no condition key for it), and the resource policy above denies every other write.
    this.table.grant(this.function.fn, 'dynamodb:PutItem');
    for (const source of props.sources) {
      new SubscriptionFilter(this, `AuditRecords${source.node.id}`, {
        logGroup: source.logGroup,
        destination: new LambdaDestination(this.function.fn),
        filterPattern: AUDIT_FILTER_PATTERN,
      });
    }
    // Operator actions (the tenant CLI) take the same way in: a line in a log group of their
    // own, appended by the audit function, since no one else may put a record.
    this.operatorLog = new LogGroup(this, 'OperatorActions', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    acknowledgeLogGroupFindings(this.operatorLog);
    new SubscriptionFilter(this, 'OperatorRecords', {
      logGroup: this.operatorLog,
      destination: new LambdaDestination(this.function.fn),
      filterPattern: AUDIT_FILTER_PATTERN,
    });
  }
}
