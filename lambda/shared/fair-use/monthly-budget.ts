import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../aws-clients.js';
import type { TenantId } from '../tenant.js';
import type { Admission } from './user-rate-limit.js';

/** Spread of one tenant's monthly counter: writes land on this many partitions. */
export const BUDGET_SHARDS = 8;

export type BudgetAdmission =
  | { readonly allowed: true; readonly month: string; readonly shard: number }
  | Extract<Admission, { allowed: false }>;

/**
 * The monthly tool-call budget of a tenant (the denial-of-wallet guard). The month's counter
 * is split into shards, each capped at its share of the limit, and a call takes a unit from
 * the first shard with room, starting at a random one: writes spread over several partitions,
 * and the calls admitted in a month are exactly the limit, never one more.
 */
export class MonthlyBudget {
  /** Months known to be spent, per tenant, so a spent tenant costs no more writes. */
  private readonly spentUntil = new Map<string, number>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  async spend(tenantId: TenantId, limit: number): Promise<BudgetAdmission> {
    const now = this.now();
    const month = monthOf(now);
    const retryAfterSeconds = Math.max(1, Math.ceil((startOfNextMonth(now) - now) / 1000));
    const spentKey = `${tenantId} ${month}`;
    if ((this.spentUntil.get(spentKey) ?? 0) > now) return { allowed: false, retryAfterSeconds };

    const start = Math.floor(this.random() * BUDGET_SHARDS);
    for (let i = 0; i < BUDGET_SHARDS; i++) {
      const shard = (start + i) % BUDGET_SHARDS;
      const cap = shardCap(limit, shard);
      if (cap === 0) continue;
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: `BUDGET#${tenantId}#${shard}`, sk: month },
            UpdateExpression: 'ADD #calls :one SET expiresAt = if_not_exists(expiresAt, :expires)',
            ConditionExpression: 'attribute_not_exists(#calls) OR #calls < :cap',
            ExpressionAttributeNames: { '#calls': 'calls' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':cap': cap,
              ':expires': Math.ceil(startOfNextMonth(now) / 1000) + 400 * 86_400,
            },
          }),
        );
        return { allowed: true, month, shard };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    // A spent month stays spent unless the tier changes: check again after a minute.
    this.spentUntil.set(spentKey, now + 60_000);
    if (this.spentUntil.size > 10_000) this.spentUntil.clear();
    return { allowed: false, retryAfterSeconds };
  }

  /** Gives back a unit taken for a call that was then refused for another reason. */
  async refund(tenantId: TenantId, month: string, shard: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `BUDGET#${tenantId}#${shard}`, sk: month },
        UpdateExpression: 'ADD #calls :minusOne',
        ConditionExpression: '#calls > :zero',
        ExpressionAttributeNames: { '#calls': 'calls' },
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    );
  }

  /** Tool calls counted so far in the month (`yyyy-mm`, UTC). */
  async spent(tenantId: TenantId, month = monthOf(this.now())): Promise<number> {
    const keys = Array.from({ length: BUDGET_SHARDS }, (_, shard) => ({
      pk: `BUDGET#${tenantId}#${shard}`,
      sk: month,
    }));
    let total = 0;
    let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
      [this.tableName]: { Keys: keys },
    };
    while (request && Object.keys(request).length > 0) {
      const { Responses, UnprocessedKeys } = await this.db.send(
        new BatchGetCommand({ RequestItems: request }),
      );
      for (const item of Responses?.[this.tableName] ?? []) total += Number(item.calls ?? 0);
      request = UnprocessedKeys as typeof request;
    }
    return total;
  }
}

/** Shard `shard`'s share of `limit`: the shares differ by at most one and add up to it. */
export function shardCap(limit: number, shard: number): number {
  return Math.floor(limit / BUDGET_SHARDS) + (shard < limit % BUDGET_SHARDS ? 1 : 0);
}

export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

function startOfNextMonth(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
