import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

export interface QueueRunnerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** @default 5 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 100 */
  readonly pollIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * What Lambda's SQS event source mapping does, for local runs: receives one message at a
 * time, invokes the handler with an SQS event, deletes the message unless the handler threw
 * or reported it as a batch item failure (then SQS redelivers it after its visibility timeout,
 * and moves it to the dead-letter queue after maxReceiveCount).
 */
export function startQueueRunner(options: QueueRunnerOptions): { stop(): Promise<void> } {
  let running = true;
  const name = options.queueUrl.split('/').pop() ?? 'queue';
  const loop = (async () => {
    while (running) {
      try {
        const { Messages = [] } = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 1,
            VisibilityTimeout: options.visibilityTimeoutSeconds ?? 5,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        for (const message of Messages) {
          const event: SQSEvent = {
            Records: [
              {
                messageId: message.MessageId ?? '',
                receiptHandle: message.ReceiptHandle ?? '',
                body: message.Body ?? '',
                attributes: {
                  ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
                  SentTimestamp: String(Date.now()),
                  SenderId: 'local',
                  ApproximateFirstReceiveTimestamp: String(Date.now()),
                },
                messageAttributes: {},
                md5OfBody: message.MD5OfBody ?? '',
                eventSource: 'aws:sqs',
                eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${name}`,
                awsRegion: 'us-east-1',
              },
            ],
          };
          let failed = true;
          try {
            const result = await options.handler(event, lambdaContext('provisioner'));
            failed = (result?.batchItemFailures ?? []).length > 0;
          } catch (error) {
            options.onError?.(error);
          }
          if (!failed) {
            await options.sqs.send(
              new DeleteMessageCommand({
                QueueUrl: options.queueUrl,
                ReceiptHandle: message.ReceiptHandle,
              }),
            );
          }
        }
        if (Messages.length === 0) await sleep(options.pollIntervalMs ?? 100);
      } catch (error) {
        options.onError?.(error);
        await sleep(500);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
