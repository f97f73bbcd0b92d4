import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../aws-clients.js';
import type { TenantId } from '../tenant.js';
import type { TierDefinition } from '../tiers.js';

export type Admission =
  | { readonly allowed: true }
  | { readonly allowed: false; retryAfterSeconds: number };

/**
 * The per-user layer of rate limiting: a fixed-window counter per user, one atomic conditional
 * increment per request in DynamoDB, shared by every Lambda environment. The window's item
 * expires by TTL; a new window is a new item, so nothing has to be reset.
 */
export class UserRateLimit {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of the user; refuses it once the window holds the tier's number. */
  async consume(
    tenantId: TenantId,
    userPseudonym: string,
    limit: TierDefinition['perUser'],
  ): Promise<Admission> {
    const now = this.now();
    const windowMs = limit.windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RATE#${tenantId}#${userPseudonym}`, sk: String(windowStart) },
          UpdateExpression: 'ADD #requests :one SET expiresAt = if_not_exists(expiresAt, :expires)',
          ConditionExpression: 'attribute_not_exists(#requests) OR #requests < :limit',
          ExpressionAttributeNames: { '#requests': 'requests' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': limit.requests,
            ':expires': Math.ceil((windowStart + 2 * windowMs) / 1000),
          },
        }),
      );
      return { allowed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000)),
      };
    }
  }
}
