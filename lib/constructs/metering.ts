import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { FilterPattern, SubscriptionFilter } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METERING_CONFIG } from '../../lambda/metering/config.js';
import { USAGE_RECORD } from '../../lambda/shared/fair-use/usage-record.js';
import { asyncDeadLetters } from './async-dead-letters.js';
import { HandlerFunction } from './handler-function.js';

export interface MeteringProps {
  /** The function whose log group carries the usage records (the MCP function). */
  readonly source: HandlerFunction;
  readonly usageTable: ITableV2;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (the function's log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/** The subscription filter pattern: a top-level `record` field naming a usage record. */
export const USAGE_FILTER_PATTERN = FilterPattern.stringValue('$.record', '=', USAGE_RECORD);

/**
 * Metering off the request path: the MCP function writes one usage record per served call to
 * its log, and a subscription filter on its log group hands the records to the metering
 * function, which adds them to the usage table exactly once per delivery. Lambda retries a
 * failed delivery twice; one that still fails lands in a dead-letter queue with an alarm, and
 * the records stay in the log group, from which it can be replayed.
 */
export class Metering extends Construct {
  readonly function: HandlerFunction<typeof METERING_CONFIG>;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: MeteringProps) {
    super(scope, id);
    this.function = new HandlerFunction(this, 'Function', {
      entry: 'metering',
      config: METERING_CONFIG,
      description: 'Adds the usage records of the MCP function logs to the usage table',
      timeout: Duration.seconds(30),
      environment: { USAGE_TABLE_NAME: props.usageTable.tableName },
      removalPolicy: props.removalPolicy,
    });
    const failures = asyncDeadLetters(this, this.function.fn, {
      owner: 'the metering function',
      alarmDescription:
        'Usage records could not be metered: see the metering logs, then replay the delivery',
    });
    this.deadLetterQueue = failures.queue;
    this.deadLetterAlarm = failures.alarm;
    // Usage rows, the month's metered total and the delivery markers, by their key prefixes;
    // each item of a transaction is authorized as its own PutItem or UpdateItem.
    Grant.addToPrincipal({
      grantee: this.function.fn,
      actions: ['dynamodb:UpdateItem', 'dynamodb:PutItem'],
      resourceArns: [props.usageTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': ['USAGE#*', 'BUDGET#*', 'METERED#*'],
        },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    new SubscriptionFilter(this, 'UsageRecords', {
      logGroup: props.source.logGroup,
      destination: new LambdaDestination(this.function.fn),
      filterPattern: USAGE_FILTER_PATTERN,
    });
  }
}
