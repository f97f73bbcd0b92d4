import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantId } from '../tenancy/tenant.js';
import { CountTable, type ReconciledCount } from './reconciled-count.js';
import type { Admission } from './user-rate-limit.js';

/**
 * How long a warm environment may hold counted calls before it writes them (one write, at the
 * end of the next call): a tenant calling less often than this writes every call, a busy one
 * once per block or per 30 s. What a recycled environment takes with it is at most a block.
 */
export const BUDGET_MAX_AGE_MS = 30_000;

/** The usage-table key of a tenant's month as the environments count it (`calls`). */
export function budgetKey(tenantId: TenantId, month: string) {
  return { pk: `BUDGET#${tenantId}`, sk: month };
}

/**
 * The key of a tenant's month as the metering function counts it (`metered`): an item of its
 * own, so metering transactions and the environments' writes never contend for one item.
 */
export function meteredKey(tenantId: TenantId, month: string) {
  return { pk: `BUDGET#${tenantId}`, sk: `${month}#metered` };
}

/** An admitted call: the month it was counted in, to give back or write with. */
export type BudgetTicket = { readonly allowed: true; readonly count: ReconciledCount };

/**
 * The monthly tool-call budget of a tenant (the denial-of-wallet guard), counted in memory by
 * each warm environment and reconciled with one shared item per tenant and month (see
 * reconciled-count.ts). The environments add their admissions to its `calls`, which admission
 * is decided on. The metering function counts the served calls from the logs into an item of
 * its own (`metered`: complete, but seconds behind), shown in reports and never used to admit:
 * the two overlap by an amount no one knows, so they cannot be added, and the larger of them
 * undercounts. An environment reads `calls` on its first call for a tenant in a month (other
 * calls arriving meanwhile wait for that read) and learns it again with every write. Calls
 * admitted in a month exceed the budget by at most one block per warm environment serving the
 * tenant at the same time, plus, for each environment recycled in the month, the calls it had
 * not written yet (at most one block). Metering counts those calls all the same.
 */
export class MonthlyBudget {
  private readonly counts = new CountTable();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one call, or refuses it once the month is spent. A round trip only on a first call. */
  async take(
    tenantId: TenantId,
    limit: number,
  ): Promise<BudgetTicket | Extract<Admission, { allowed: false }>> {
    const now = this.now();
    const month = monthOf(now);
    const { count, fresh } = this.counts.get(tenantId, month, now);
    if (fresh) {
      count.ready = this.admitted(tenantId, month).then((calls) => count.settle(calls));
      // Not known: forget it, so the next call reads again (the waiting calls fail open).
      count.ready.catch(() => this.counts.forget(tenantId, count));
    }
    await count.ready;
    if (!count.fits(limit)) {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((startOfNextMonth(now) - now) / 1000)),
      };
    }
    count.pending += 1;
    return { allowed: true, count };
  }

  /** Gives back a call taken and then refused before it ran. */
  giveBack(ticket: BudgetTicket): void {
    ticket.count.pending -= 1;
  }

  /**
   * Writes the month's pending calls when a block is full or they have waited 30 s (checked at
   * the end of each call, so an environment that serves no further call holds at most a block).
   */
  async reconcile(tenantId: TenantId, limit: number, ticket: BudgetTicket): Promise<void> {
    const { count } = ticket;
    const now = this.now();
    if (!count.due(limit, now, BUDGET_MAX_AGE_MS)) return;
    const delta = count.take(now);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: budgetKey(tenantId, count.period),
          UpdateExpression: 'ADD #calls :delta SET expiresAt = if_not_exists(expiresAt, :expires)',
          ExpressionAttributeNames: { '#calls': 'calls' },
          ExpressionAttributeValues: { ':delta': delta, ':expires': expiryOf(now) },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      count.settle(Number(Attributes?.calls ?? 0), delta);
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
    const [admitted, metered] = await Promise.all([
      this.admitted(tenantId, month),
      this.get(meteredKey(tenantId, month)).then((item) => Number(item?.metered ?? 0)),
    ]);
    return Math.max(admitted, metered);
  }

  private async admitted(tenantId: TenantId, month: string): Promise<number> {
    return Number((await this.get(budgetKey(tenantId, month)))?.calls ?? 0);
  }

  private async get(key: Record<string, string>) {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key }));
    return Item;
  }
}

/** The budget items are kept a little over a year after their month, to answer disputes. */
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
