import { gzipSync } from 'node:zlib';

/**
 * CloudWatch Logs for the MCP function's log group, as far as metering and the audit trail
 * need it, one instance per subscription filter: the lines the
 * function printed (the harness reads them from the gateway process and puts them here, so they
 * outlive that process, as CloudWatch keeps a recycled environment's lines), the subscription
 * filter the CDK app deploys, and deliveries to the subscribed function in CloudWatch's event
 * shape (one log stream per delivery, base64 of gzipped JSON).
 *
 * Deliveries are at least once, like Lambda's asynchronous invocations: one not acknowledged
 * within the lease is offered again (the same events, so the same batch), and after three
 * attempts it is counted as failed, as Lambda would send it to the dead-letter queue.
 */
export class LogsStandIn {
  private readonly pending: Array<{ id: string; timestamp: number; message: string }> = [];
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
      logStream: string;
      /** The subscription filter's name, as deliveries carry it. */
      filterName: string;
      /** How long lines gather before they are delivered (CloudWatch batches too). */
      batchWindowMs?: number;
      leaseMs?: number;
    },
  ) {
    this.matches = jsonEqualsFilter(filterPattern);
  }

  put(lines: readonly string[], now = Date.now()): void {
    for (const message of lines) {
      if (!this.matches(message)) continue;
      this.sequence += 1;
      // Digits, unique in the group (CloudWatch's ids are 56 digits): the time first, so a
      // restarted stand-in never repeats one.
      const id = `${now}${String(this.sequence).padStart(12, '0')}`;
      this.pending.push({ id, timestamp: now, message });
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
    const events = this.pending.splice(0, 10_000);
    const data = gzipSync(
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        owner: '000000000000',
        logGroup: this.options.logGroup,
        logStream: this.options.logStream,
        subscriptionFilters: [this.options.filterName],
        logEvents: events,
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
