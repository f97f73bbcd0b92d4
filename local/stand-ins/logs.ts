import { gzipSync } from 'node:zlib';
import type { LogLine } from '../log-streams.js';
import { type Answer, AwsError, json, jsonError } from './protocol.js';

/**
 * CloudWatch Logs for the MCP function's log group, as far as metering and the audit trail
 * need it, one instance per subscription filter: the lines the
 * function printed (the harness reads them from the gateway process and puts them here, so they
 * outlive that process, as CloudWatch keeps a recycled environment's lines), the subscription
 * filter the CDK app deploys, and deliveries to the subscribed function in CloudWatch's event
 * shape (one log stream per delivery, base64 of gzipped JSON: each execution environment
 * writes to a stream of its own, so one delivery holds one environment's lines).
 *
 * Deliveries are at least once, like Lambda's asynchronous invocations: one not acknowledged
 * within the lease is offered again (the same events, so the same batch), and after three
 * attempts it is counted as failed, as Lambda would send it to the dead-letter queue.
 */
export class LogsStandIn {
  private readonly pending: Array<{
    id: string;
    timestamp: number;
    message: string;
    logStream: string;
  }> = [];
  private readonly deliveries = new Map<
    string,
    { data: string; attempts: number; leasedUntil: number; records: number }
  >();
  private sequence = 0;
  private failedDeliveries = 0;
  private readonly matches: (message: string) => boolean;

  constructor(
    filterPattern: string,
    private readonly options: {
      logGroup: string;
      /** The subscription filter's name, as deliveries carry it. */
      filterName: string;
      /** How long lines gather before they are delivered (CloudWatch batches too). */
      batchWindowMs?: number;
      leaseMs?: number;
    },
  ) {
    this.matches = jsonEqualsFilter(filterPattern);
  }

  put(lines: readonly LogLine[], now = Date.now()): void {
    for (const { logStream, message } of lines) {
      if (!this.matches(message)) continue;
      this.sequence += 1;
      this.pending.push({ id: eventId(now, this.sequence), timestamp: now, message, logStream });
    }
  }

  /** The next delivery due, or undefined; the caller acknowledges it when handled. */
  next(now = Date.now()): { id: string; event: { awslogs: { data: string } } } | undefined {
    for (const [id, delivery] of this.deliveries) {
      if (delivery.leasedUntil > now) continue;
      if (delivery.attempts >= 3) {
        this.deliveries.delete(id);
        this.failedDeliveries += 1;
        continue;
      }
      delivery.attempts += 1;
      delivery.leasedUntil = now + (this.options.leaseMs ?? 30_000);
      return { id, event: { awslogs: { data: delivery.data } } };
    }
    const first = this.pending[0];
    if (!first || now - first.timestamp < (this.options.batchWindowMs ?? 1_000)) return undefined;
    // The oldest stream's events, in order, up to CloudWatch's batch size.
    const events: typeof this.pending = [];
    const rest: typeof this.pending = [];
    for (const event of this.pending) {
      (event.logStream === first.logStream && events.length < 10_000 ? events : rest).push(event);
    }
    this.pending.length = 0;
    for (const event of rest) this.pending.push(event);
    const data = gzipSync(
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        owner: '000000000000',
        logGroup: this.options.logGroup,
        logStream: first.logStream,
        subscriptionFilters: [this.options.filterName],
        logEvents: events.map(({ id, timestamp, message }) => ({ id, timestamp, message })),
      }),
    ).toString('base64');
    const id = `delivery-${events[0]?.id}`;
    this.deliveries.set(id, {
      data,
      attempts: 1,
      leasedUntil: now + (this.options.leaseMs ?? 30_000),
      records: events.length,
    });
    return { id, event: { awslogs: { data } } };
  }

  ack(id: string): boolean {
    return this.deliveries.delete(id);
  }

  stats() {
    return {
      pendingRecords: this.pending.length,
      inFlightDeliveries: this.deliveries.size,
      failedDeliveries: this.failedDeliveries,
    };
  }
}

/**
 * A log group's events, for `FilterLogEvents` (how an operator finds which environments, that
 * is which log streams, served a tenant). CloudWatch keeps events for the group's retention;
 * this keeps the newest `capacity`. Filter patterns are the one form `jsonEqualsFilter` reads;
 * any other is refused rather than matched loosely.
 */
export class LogGroupStandIn {
  private readonly events: Array<{
    eventId: string;
    logStreamName: string;
    timestamp: number;
    ingestionTime: number;
    message: string;
  }> = [];
  private sequence = 0;

  constructor(
    readonly logGroupName: string,
    private readonly capacity = 100_000,
  ) {}

  put(lines: readonly LogLine[], now = Date.now()): void {
    for (const { logStream, message } of lines) {
      this.sequence += 1;
      this.events.push({
        eventId: eventId(now, this.sequence),
        logStreamName: logStream,
        timestamp: now,
        ingestionTime: now,
        message,
      });
    }
    if (this.events.length > this.capacity) {
      this.events.splice(0, this.events.length - this.capacity);
    }
  }

  /** `FilterLogEvents`: events of the group, oldest first, in pages of `limit` (10,000 at most). */
  filter(input: Record<string, unknown>): Answer {
    try {
      const matches =
        typeof input.filterPattern === 'string' && input.filterPattern.trim() !== ''
          ? jsonEqualsFilter(input.filterPattern)
          : () => true;
      const streams = Array.isArray(input.logStreamNames)
        ? new Set(input.logStreamNames.map(String))
        : undefined;
      const prefix = typeof input.logStreamNamePrefix === 'string' ? input.logStreamNamePrefix : '';
      if (streams && prefix) {
        throw new AwsError(
          'InvalidParameterException',
          'logStreamNames and logStreamNamePrefix cannot both be given',
        );
      }
      const start = typeof input.startTime === 'number' ? input.startTime : 0;
      const end = typeof input.endTime === 'number' ? input.endTime : Number.POSITIVE_INFINITY;
      const limit = Math.min(typeof input.limit === 'number' ? input.limit : 10_000, 10_000);
      const from = typeof input.nextToken === 'string' ? Number(input.nextToken) : 0;
      if (!Number.isInteger(from) || from < 0) {
        throw new AwsError('InvalidParameterException', 'The nextToken is not valid.');
      }
      const selected = this.events.filter(
        (event) =>
          (!streams || streams.has(event.logStreamName)) &&
          event.logStreamName.startsWith(prefix) &&
          event.timestamp >= start &&
          event.timestamp <= end &&
          matches(event.message),
      );
      const page = selected.slice(from, from + limit);
      return json({
        events: page,
        searchedLogStreams: [...new Set(selected.map((e) => e.logStreamName))].map((name) => ({
          logStreamName: name,
          searchedCompletely: true,
        })),
        ...(from + limit < selected.length ? { nextToken: String(from + limit) } : {}),
      });
    } catch (error) {
      if (error instanceof AwsError) return jsonError(error);
      return jsonError(new AwsError('InvalidParameterException', (error as Error).message));
    }
  }
}

/**
 * A log event id: digits, unique in the group (CloudWatch's are 56 digits), the time first so
 * a restarted stand-in never repeats one.
 */
function eventId(now: number, sequence: number): string {
  return `${now}${String(sequence).padStart(12, '0')}`;
}

/**
 * The one filter-pattern form the CDK app uses, `{ $.field = "value" }` on a top-level field
 * (CloudWatch's JSON pattern). Any other pattern stops the stand-in at start rather than be
 * matched loosely.
 */
export function jsonEqualsFilter(pattern: string): (message: string) => boolean {
  const match = /^\{\s*\$\.([A-Za-z_][\w]*)\s*=\s*"([^"*]*)"\s*\}$/.exec(pattern.trim());
  if (!match) throw new Error(`local CloudWatch Logs cannot match the filter pattern ${pattern}`);
  const [, field = '', value] = match;
  return (message) => {
    try {
      const parsed = JSON.parse(message) as Record<string, unknown>;
      return parsed !== null && typeof parsed === 'object' && parsed[field] === value;
    } catch {
      return false;
    }
  };
}
