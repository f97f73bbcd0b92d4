import {
  type DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../platform/aws-clients.js';
import type { TenantId } from '../tenancy/tenant.js';
import { expiryOf, meteredKey, monthOf } from './monthly-budget.js';
import type { UsageRecord } from './usage-record.js';

/** Spread of one tenant's usage rows: read over this many partitions (older rows used them). */
export const USAGE_SHARDS = 8;

export interface UsageRow {
  readonly day: string;
  readonly tool: string;
  readonly calls: number;
  readonly errors: number;
  readonly totalDurationMs: number;
}

/** How long usage counters are kept (the TTL), long enough to bill and to answer disputes. */
const RETENTION_DAYS = 400;
/** DynamoDB's limit of items in one transaction, one of which is the batch's marker. */
const TRANSACTION_ITEMS = 100;
/** Tries of a transaction that DynamoDB cancels for a conflict with another one. */
const CONFLICT_ATTEMPTS = 5;
/** The metered month item's set of days (`yyyy-mm-dd`) with at least one served call. */
const CALL_DAYS = 'callDays';
const DAY_MS = 86_400_000;

/**
 * Metering: the served calls of each tenant per tool (or method) and day, with errors and
 * duration, and each month's total for the budget. Written by the metering function from the
 * usage records of a log batch, exactly once per batch; read by `usage_report` and the CLI.
 */
export class UsageMeter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Adds a batch of records: one ADD per tenant, day and tool and one per tenant and month,
   * in transactions that also create the batch's marker. A batch delivered again (Lambda retries
   * an asynchronous invocation that failed) finds its marker and adds nothing twice.
   * @returns whether the batch was new
   */
  async apply(batchId: string, records: readonly UsageRecord[]): Promise<boolean> {
    const rows = new Map<string, { tenantId: string; sk: string; time: number } & Totals>();
    const months = new Map<
      string,
      { tenantId: string; month: string; time: number; calls: number; days: Set<string> }
    >();
    for (const record of records) {
      const day = dayOf(record.time);
      const rowKey = `${record.tenantId} ${day}#${record.name}`;
      const row = rows.get(rowKey) ?? {
        tenantId: record.tenantId,
        sk: `${day}#${record.name}`,
        time: record.time,
        calls: 0,
        errors: 0,
        durationMs: 0,
      };
      row.calls += 1;
      row.errors += record.outcome === 'error' ? 1 : 0;
      row.durationMs += record.durationMs;
      rows.set(rowKey, row);
      const month = monthOf(record.time);
      const monthKey = `${record.tenantId} ${month}`;
      const total = months.get(monthKey) ?? {
        tenantId: record.tenantId,
        month,
        time: record.time,
        calls: 0,
        days: new Set<string>(),
      };
      total.calls += 1;
      total.days.add(day);
      months.set(monthKey, total);
    }

    const updates = [
      ...[...rows.values()].map((row) => ({
        Update: {
          TableName: this.tableName,
          Key: {
            pk: `USAGE#${row.tenantId}#${Math.floor(this.random() * USAGE_SHARDS)}`,
            sk: row.sk,
          },
          UpdateExpression:
            'ADD calls :calls, errors :errors, durationMs :duration SET expiresAt = if_not_exists(expiresAt, :expires)',
          ExpressionAttributeValues: {
            ':calls': row.calls,
            ':errors': row.errors,
            ':duration': row.durationMs,
            ':expires': Math.ceil(row.time / 1000) + RETENTION_DAYS * 86_400,
          },
        },
      })),
      ...[...months.values()].map((total) => ({
        Update: {
          TableName: this.tableName,
          Key: meteredKey(total.tenantId, total.month),
          // The days with calls, a set: adding is a union, so the latest day is the same
          // whatever order deliveries of several log streams arrive in (lastCallEnd).
          UpdateExpression:
            'ADD metered :calls, #days :days SET expiresAt = if_not_exists(expiresAt, :expires)',
          ExpressionAttributeNames: { '#days': CALL_DAYS },
          ExpressionAttributeValues: {
            ':calls': total.calls,
            ':days': total.days,
            ':expires': expiryOf(total.time),
          },
        },
      })),
    ];

    let applied = false;
    for (let start = 0, part = 0; start < updates.length; start += TRANSACTION_ITEMS - 1, part++) {
      const chunk = updates.slice(start, start + TRANSACTION_ITEMS - 1);
      try {
        await this.transact(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk: `METERED#${batchId}#${part}`,
                    sk: 'batch',
                    expiresAt: Math.ceil(Date.now() / 1000) + 14 * 86_400,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...chunk,
            ],
          }),
        );
        applied = true;
      } catch (error) {
        if (!isMarkerConflict(error)) throw error;
      }
    }
    return applied;
  }

  /**
   * Sends a transaction, again after a short random pause when DynamoDB cancelled it only
   * because another transaction was writing one of its items at the same moment (deliveries of
   * several log streams touch the same tenant's rows): `TransactionConflict` is not a failure of
   * the batch. Anything else, and a conflict that persists, goes to the caller (Lambda retries).
   */
  private async transact(command: TransactWriteCommand): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.send(command);
        return;
      } catch (error) {
        if (!isTransactionConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.random() * 50 * 2 ** attempt));
      }
    }
  }

  /**
   * When the tenant's last metered call was, looking no further back than the month of `since`
   * (ms): the end of the latest UTC day with a call (the next midnight, capped at `now`), or
   * undefined when it made none in that time. One query of at most a few small month items, no
   * write on the request path: metering already keeps each month's set of days with calls. A
   * month metered before that set existed counts as active to its end. Known to the day, and
   * seconds behind the calls (log delivery).
   */
  async lastCallEnd(
    tenantId: TenantId,
    since: number,
    now = Date.now(),
  ): Promise<number | undefined> {
    let last: number | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND #sk >= :from',
          ExpressionAttributeNames: { '#sk': 'sk', '#metered': 'metered', '#days': CALL_DAYS },
          ExpressionAttributeValues: {
            ':pk': meteredKey(tenantId, monthOf(since)).pk,
            ':from': monthOf(since),
          },
          ProjectionExpression: '#sk, #metered, #days',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = String(item.sk);
        if (!sk.endsWith('#metered')) continue;
        const days = item[CALL_DAYS] as Set<string> | undefined;
        const end =
          days && days.size > 0
            ? Math.max(...[...days].map((day) => Date.parse(`${day}T00:00:00.000Z`) + DAY_MS))
            : Number(item.metered ?? 0) > 0
              ? Date.UTC(Number(sk.slice(0, 4)), Number(sk.slice(5, 7)), 1)
              : undefined;
        if (end !== undefined && !Number.isNaN(end)) last = Math.max(last ?? end, end);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return last === undefined ? undefined : Math.min(last, now);
  }

  /** Usage per day and tool between two days (`yyyy-mm-dd`, inclusive), oldest first. */
  async report(tenantId: TenantId, from: string, to: string): Promise<UsageRow[]> {
    const rows = new Map<string, UsageRow>();
    await Promise.all(
      Array.from({ length: USAGE_SHARDS }, async (_, shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: {
                ':pk': `USAGE#${tenantId}#${shard}`,
                ':from': `${from}#`,
                ':to': `${to}#\uffff`,
              },
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of page.Items ?? []) {
            const sk = String(item.sk);
            const [day = '', tool = ''] = [sk.slice(0, 10), sk.slice(11)];
            const previous = rows.get(sk);
            rows.set(sk, {
              day,
              tool,
              calls: (previous?.calls ?? 0) + Number(item.calls ?? 0),
              errors: (previous?.errors ?? 0) + Number(item.errors ?? 0),
              totalDurationMs: (previous?.totalDurationMs ?? 0) + Number(item.durationMs ?? 0),
            });
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return [...rows.values()].sort((a, b) =>
      a.day === b.day ? a.tool.localeCompare(b.tool) : a.day.localeCompare(b.day),
    );
  }
}

interface Totals {
  calls: number;
  errors: number;
  durationMs: number;
}

function isTransactionConflict(error: unknown): boolean {
  const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
  return (
    (error as Error).name === 'TransactionCanceledException' &&
    (reasons ?? []).some((reason) => reason.Code === 'TransactionConflict') &&
    !(reasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

/** A transaction cancelled only because the batch's marker exists: the batch was applied. */
function isMarkerConflict(error: unknown): boolean {
  if (isConditionFailure(error)) return true;
  const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
  return (
    (error as Error).name === 'TransactionCanceledException' &&
    reasons?.[0]?.Code === 'ConditionalCheckFailed' &&
    reasons.slice(1).every((reason) => !reason.Code || reason.Code === 'None')
  );
}

export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
