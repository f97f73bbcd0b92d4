import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantId } from '../tenancy/tenant.js';
import { CountTable, type ReconciledCount } from './reconciled-count.js';
import type { TierDefinition } from './tiers.js';

export type Admission =
  | { readonly allowed: true }
  | { readonly allowed: false; retryAfterSeconds: number };

/** An admitted request: the window it was counted in, to write with. */
export type RateTicket = { readonly allowed: true; readonly count: ReconciledCount };

/**
 * The per-user layer of rate limiting: a fixed window per user, counted in memory by each warm
 * environment and reconciled with a counter shared by all of them (the usage table) one block
 * at a time (see reconciled-count.ts). Every request that reaches the gate counts, whatever
 * becomes of it, since each one spent the tenant's usage plan. Within a window a user gets at
 * most the tier's number of requests, plus at most one block per warm environment serving them
 * (an eighth of what was left at that environment's last write). A window's item expires by
 * TTL; a new window is a new item, so nothing has to be reset, and a count lost with a recycled
 * environment is lost for that window only.
 */
export class UserRateLimit {
  private readonly counts = new CountTable();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of the user, or refuses it once the window is full. No round trip. */
  take(
    tenantId: TenantId,
    userPseudonym: string,
    limit: TierDefinition['perUser'],
  ): RateTicket | Extract<Admission, { allowed: false }> {
    const now = this.now();
    const windowMs = limit.windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const { count } = this.counts.get(`${tenantId}#${userPseudonym}`, String(windowStart), now);
    if (!count.fits(limit.requests)) {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000)),
      };
    }
    count.pending += 1;
    return { allowed: true, count };
  }

  /** Writes the window's pending requests when a block is full: one atomic ADD. */
  async reconcile(
    tenantId: TenantId,
    userPseudonym: string,
    limit: TierDefinition['perUser'],
    ticket: RateTicket,
  ): Promise<void> {
    const { count } = ticket;
    const now = this.now();
    // A window is short: only a full block is written, never a count that merely waited.
    if (!count.due(limit.requests, now, Number.POSITIVE_INFINITY)) return;
    const windowStart = Number(count.period);
    const delta = count.take(now);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RATE#${tenantId}#${userPseudonym}`, sk: count.period },
          UpdateExpression:
            'ADD #requests :delta SET expiresAt = if_not_exists(expiresAt, :expires)',
          ExpressionAttributeNames: { '#requests': 'requests' },
          ExpressionAttributeValues: {
            ':delta': delta,
            ':expires': Math.ceil((windowStart + 2 * limit.windowSeconds * 1000) / 1000),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      count.settle(Number(Attributes?.requests ?? 0), delta);
    } catch (error) {
      count.restore(delta);
      throw error;
    }
  }
}
