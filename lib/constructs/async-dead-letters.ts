import { Duration, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { guardRule } from '../validation.js';
import { deadLetterAlarm } from './dead-letter-alarm.js';

/**
 * Where an asynchronously invoked function's failures go (ids `DeadLetters` and
 * `DeadLetterAlarm` under `scope`): Lambda retries an invocation twice, then sends it to an
 * encrypted queue that keeps it 14 days, and the queue's alarm fires on the first message.
 * The log subscriptions (metering, the audit trail) are invoked so.
 */
export function asyncDeadLetters(
  scope: Construct,
  fn: IFunction,
  options: {
    /** Whose queue it is, for the findings it acknowledges (`the audit function`). */
    readonly owner: string;
    readonly alarmDescription: string;
  },
): { readonly queue: Queue; readonly alarm: Alarm } {
  const queue = new Queue(scope, 'DeadLetters', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge(
    { id: 'AwsSolutions-SQS3', reason: `This is the dead-letter queue of ${options.owner}.` },
    {
      id: guardRule('sqs_dlq_check'),
      reason:
        `This is the dead-letter queue of ${options.owner}: a delivery that failed three ` +
        'times is kept 14 days and raises an alarm at once.',
    },
  );
  fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(queue) });
  return { queue, alarm: deadLetterAlarm(scope, queue, options.alarmDescription) };
}
