import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantId } from '../tenant.js';
import { CountTable } from './reconciled-count.js';
import type { Admission } from './user-rate-limit.js';

/**
 * How long a warm environment may hold counted calls before it writes them (one write, at the
 * end of the next call): a tenant calling less often than this writes every call, a busy one
 * once per block or per 30 s. It bounds what a recycled environment takes with it.
 */
export const BUDGET_MAX_AGE_MS = 30_000;

/** The usage-table key of a tenant's month: `calls` from the environments, `metered` from logs. */
export function budgetKey(tenantId: TenantId, month: string) {
  return { pk: `BUDGET#${tenantId}`, sk: month };
}

/**
 * The monthly tool-call budget of a tenant (the denial-of-wallet guard), counted in memory by
 * each warm environment and reconciled with one shared item per tenant and month (see
 * reconciled-count.ts):
 * - `calls`: the admissions the environments wrote, one block at a time, which admission is
 *   decided on;
 * - `metered`: the served calls the metering function counted from the MCP function's logs
 *   (complete, but seconds behind), shown in reports, never used to admit: the two overlap by
 *   an amount no one knows, so they cannot be added, and the larger of them undercounts.
 * An environment reads `calls` on its first call for a tenant in a month and learns it again
 * with every write. Calls admitted in a month exceed the
 * budget by at most one block per warm environment serving the tenant at the same time, plus,
 * for each environment recycled in the month, the calls it had not written yet (at most one
 * block, and only those of its last 30 s). Metering counts those calls all the same.
 */
export class MonthlyBudget {
  private readonly counts = new CountTable();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one call, or refuses it once the month is spent. A round trip only on a first call. */
  async take(tenantId: TenantId, limit: number): Promise<Admission> {
    const now = this.now();
    const month = monthOf(now);
    const { count, fresh } = this.counts.get(tenantId, month, now);
    if (fresh) {
      try {
        count.settle(await this.admitted(tenantId, month));
      } catch (error) {
        // Not known yet: the next call reads it again.
        this.counts.forget(tenantId);
        throw error;
      }
    }
    if (!count.fits(limit)) {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((startOfNextMonth(now) - now) / 1000)),
      };
    }
    count.pending += 1;
    return { allowed: true };
  }

  /** Gives back a call taken and then refused before it ran. */
  giveBack(tenantId: TenantId): void {
    const now = this.now();
    this.counts.get(tenantId, monthOf(now), now).count.pending -= 1;
  }

  /** Writes the tenant's pending calls when a block is full or they have waited 30 s. */
  async reconcile(tenantId: TenantId, limit: number): Promise<void> {
    const now = this.now();
    const month = monthOf(now);
    const { count } = this.counts.get(tenantId, month, now);
    if (!count.due(limit, now, BUDGET_MAX_AGE_MS)) return;
    const delta = count.take(now);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: budgetKey(tenantId, month),
          UpdateExpression: 'ADD #calls :delta SET expiresAt = if_not_exists(expiresAt, :expires)',
          ExpressionAttributeNames: { '#calls': 'calls' },
          ExpressionAttributeValues: { ':delta': delta, ':expires': expiryOf(now) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      count.settle(Number(Attributes?.calls ?? 0));
    } catch (error) {
      count.restore(delta);
      throw error;
    }
  }

  /**
   * Tool calls spent so far in the month (`yyyy-mm`, UTC), for reports: the larger of the calls
   * admitted and the calls metered, each of which may lag (by a block, or by seconds).
   */
  async spent(tenantId: TenantId, month = monthOf(this.now())): Promise<number> {
    const item = await this.item(tenantId, month);
    return Math.max(Number(item?.calls ?? 0), Number(item?.metered ?? 0));
  }

  private async admitted(tenantId: TenantId, month: string): Promise<number> {
    return Number((await this.item(tenantId, month))?.calls ?? 0);
  }

  private async item(tenantId: TenantId, month: string) {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: budgetKey(tenantId, month) }),
    );
    return Item;
  }
}

/** The budget item is kept a little over a year after its month, to answer disputes. */
export function expiryOf(epochMs: number): number {
  return Math.ceil(startOfNextMonth(epochMs) / 1000) + 400 * 86_400;
}

export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

function startOfNextMonth(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
