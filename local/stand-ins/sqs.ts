import { createHash, randomUUID } from 'node:crypto';
import { type Answer, AwsError, json, jsonError } from './protocol.js';

interface Message {
  readonly id: string;
  readonly body: string;
  readonly groupId?: string;
  receiveCount: number;
  visibleAt: number;
  receipt?: string;
}
interface Queue {
  readonly messages: Message[];
  readonly dedupe: Map<string, number>;
  redrive?: { dlq: string; maxReceiveCount: number };
}

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const DEDUPE_WINDOW_MS = 5 * 60_000;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * SQS (JSON protocol) for the provisioning queue: FIFO deduplication within five minutes,
 * one message in flight per message group, visibility timeouts, and a redrive to a
 * dead-letter queue after `maxReceiveCount` receives, as configured on the real queue.
 * Queues are named by the last segment of their URL and exist on first use.
 */
export class SqsStandIn {
  private readonly queues = new Map<string, Queue>();

  redrive(source: string, dlq: string, maxReceiveCount: number): void {
    this.queue(source).redrive = { dlq, maxReceiveCount };
  }

  handle(action: string, input: Record<string, unknown>): Answer {
    try {
      return json(this.dispatch(action, input), 200, CONTENT_TYPE);
    } catch (error) {
      if (error instanceof AwsError) return jsonError(error, CONTENT_TYPE);
      throw error;
    }
  }

  /** Messages waiting or in flight, for tests and the DLQ depth. */
  depth(name: string): number {
    return this.queue(name).messages.length;
  }

  private dispatch(action: string, input: Record<string, unknown>): unknown {
    const name =
      String(input.QueueUrl ?? '')
        .split('/')
        .pop() ?? '';
    const queue = this.queue(name);
    const now = Date.now();
    switch (action) {
      case 'SendMessage': {
        const body = String(input.MessageBody ?? '');
        const dedupeId = input.MessageDeduplicationId as string | undefined;
        if (name.endsWith('.fifo') && !input.MessageGroupId) {
          throw new AwsError(
            'MissingParameter',
            'The request must contain the parameter MessageGroupId.',
          );
        }
        const seen = dedupeId ? queue.dedupe.get(dedupeId) : undefined;
        const id = randomUUID();
        if (seen === undefined || seen < now - DEDUPE_WINDOW_MS) {
          if (dedupeId) queue.dedupe.set(dedupeId, now);
          queue.messages.push({
            id,
            body,
            groupId: input.MessageGroupId as string | undefined,
            receiveCount: 0,
            visibleAt: now,
          });
        }
        return { MessageId: id, MD5OfMessageBody: md5(body), SequenceNumber: String(now) };
      }
      case 'ReceiveMessage': {
        this.redriveExpired(queue, now);
        const max = Number(input.MaxNumberOfMessages ?? 1);
        const visibility = Number(input.VisibilityTimeout ?? 30) * 1000;
        const busyGroups = new Set(
          queue.messages
            .filter((m) => m.visibleAt > now && m.receiveCount > 0)
            .map((m) => m.groupId),
        );
        const picked: Message[] = [];
        for (const message of queue.messages) {
          if (picked.length >= max) break;
          if (message.visibleAt > now || (message.groupId && busyGroups.has(message.groupId)))
            continue;
          message.receiveCount += 1;
          message.visibleAt = now + visibility;
          message.receipt = randomUUID();
          if (message.groupId) busyGroups.add(message.groupId);
          picked.push(message);
        }
        return {
          Messages: picked.map((m) => ({
            MessageId: m.id,
            ReceiptHandle: m.receipt,
            MD5OfBody: md5(m.body),
            Body: m.body,
            Attributes: {
              ApproximateReceiveCount: String(m.receiveCount),
              MessageGroupId: m.groupId ?? '',
            },
          })),
        };
      }
      case 'DeleteMessage': {
        const index = queue.messages.findIndex((m) => m.receipt === input.ReceiptHandle);
        if (index >= 0) queue.messages.splice(index, 1);
        return {};
      }
      case 'ChangeMessageVisibility': {
        const message = queue.messages.find((m) => m.receipt === input.ReceiptHandle);
        if (!message)
          throw new AwsError('ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
        message.visibleAt = now + Number(input.VisibilityTimeout ?? 0) * 1000;
        return {};
      }
      case 'GetQueueAttributes':
        this.redriveExpired(queue, now);
        return { Attributes: { ApproximateNumberOfMessages: String(queue.messages.length) } };
      default:
        throw new AwsError('UnsupportedOperation', `SQS stand-in does not implement ${action}`);
    }
  }

  /** Messages received too often go to the dead-letter queue once they are visible again. */
  private redriveExpired(queue: Queue, now: number): void {
    if (!queue.redrive) return;
    const { dlq, maxReceiveCount } = queue.redrive;
    for (const message of [...queue.messages]) {
      if (message.receiveCount >= maxReceiveCount && message.visibleAt <= now) {
        queue.messages.splice(queue.messages.indexOf(message), 1);
        this.queue(dlq).messages.push({ ...message, receiveCount: 0, visibleAt: now });
      }
    }
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { messages: [], dedupe: new Map() };
      this.queues.set(name, queue);
    }
    return queue;
  }
}
