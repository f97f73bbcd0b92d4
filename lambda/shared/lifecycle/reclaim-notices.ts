import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isConditionFailure } from '../platform/aws-clients.js';
import { InternalError } from '../platform/errors.js';
import { REGISTRY_TABLE } from '../platform/table-schema.js';
import { type TenantId, TenantIdSchema } from '../tenancy/tenant.js';

/**
 * The registry items of idle-tenant reclaiming, one per tenant: `RECLAIM#<tenant id>` / `NOTICE`.
 * Items of their own, so the tenant record's schema is untouched and the reclaimer's role may
 * write these (by key prefix) without any right to write a tenant record's fields.
 */
export const RECLAIM_KEY_PREFIX = 'RECLAIM#';

/** How long a notice's item is kept after its removal date, then left to the TTL. */
const KEEP_AFTER_REMOVAL_MS = 30 * 86_400_000;

const Timestamp = z.iso.datetime();

/**
 * A notice, in one of two states: `SENDING` (claimed by a run that is sending it now) and `SENT`
 * (the e-mail went out at `sentAt`; the tenant may be removed from `removeAfter`). A reclaim
 * under way adds `reclaimingAt`, a finished one `reclaimedAt`.
 */
export const ReclaimNoticeSchema = z.object({
  tenantId: TenantIdSchema,
  state: z.enum(['SENDING', 'SENT']),
  claimId: z.string().min(1).max(64),
  claimedAt: Timestamp,
  sentAt: Timestamp.optional(),
  removeAfter: Timestamp.optional(),
  /** How many addresses it went to (never the addresses: this item outlives the members). */
  recipients: z.number().int().min(0).optional(),
  reclaimingAt: Timestamp.optional(),
  reclaimedAt: Timestamp.optional(),
  /** DynamoDB TTL (seconds); an expired item is never read as a notice. */
  expiresAt: z.number().int().positive(),
});
export type ReclaimNotice = z.infer<typeof ReclaimNoticeSchema>;
export type SentNotice = ReclaimNotice & { state: 'SENT'; sentAt: string; removeAfter: string };

export function isSent(notice: ReclaimNotice | undefined): notice is SentNotice {
  return notice?.state === 'SENT' && !!notice.sentAt && !!notice.removeAfter;
}

const { partitionKey: PK, sortKey: SK } = REGISTRY_TABLE;
const noticeKey = (tenantId: TenantId) => ({
  [PK]: `${RECLAIM_KEY_PREFIX}${tenantId}`,
  [SK]: 'NOTICE',
});
const seconds = (ms: number) => Math.ceil(ms / 1000);

/**
 * The notices, written so that two runs never both send one (a conditional claim) and a run that
 * crashed is taken over: sending is claimed first, then done, then recorded. A run that dies
 * after SES accepted the e-mail and before recording it leaves a claim, which the next run takes
 * over once it is older than `leaseMs` and sends again: at most one extra e-mail per crash, and
 * never a reclaim without a recorded notice.
 */
export class ReclaimNotices {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The tenant's notice, unless none or expired (TTL deletes late; expiry is checked here). */
  async get(tenantId: TenantId, now: Date): Promise<ReclaimNotice | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: noticeKey(tenantId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const parsed = ReclaimNoticeSchema.safeParse(Item);
    if (!parsed.success || parsed.data.tenantId !== tenantId) {
      throw new InternalError(`Malformed registry item ${RECLAIM_KEY_PREFIX}${tenantId}`);
    }
    return parsed.data.expiresAt < seconds(now.getTime()) ? undefined : parsed.data;
  }

  /**
   * Claims the sending of a notice: only if there is none, the one there has expired, or it is a
   * claim older than `leaseMs` (its run died). Returns the claim's id, or undefined when another
   * run holds it or a notice was sent meanwhile.
   */
  async claim(tenantId: TenantId, now: Date, leaseMs: number): Promise<string | undefined> {
    const claimId = randomUUID();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...noticeKey(tenantId),
            tenantId,
            state: 'SENDING',
            claimId,
            claimedAt: now.toISOString(),
            expiresAt: seconds(now.getTime() + KEEP_AFTER_REMOVAL_MS),
          },
          ConditionExpression:
            `attribute_not_exists(${PK}) OR expiresAt < :now ` +
            'OR (#state = :sending AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':now': seconds(now.getTime()),
            ':sending': 'SENDING',
            ':stale': new Date(now.getTime() - leaseMs).toISOString(),
          },
        }),
      );
      return claimId;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Gives a claim back after the e-mail could not be sent, so the next run tries again. */
  async release(tenantId: TenantId, claimId: string): Promise<void> {
    await this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: noticeKey(tenantId),
        ConditionExpression: '#state = :sending AND claimId = :claim',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sending': 'SENDING', ':claim': claimId },
      }),
    );
  }

  /** Records the notice as sent, if the claim is still this run's. */
  async recordSent(
    tenantId: TenantId,
    claimId: string,
    sent: { sentAt: Date; removeAfter: Date; recipients: number },
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: noticeKey(tenantId),
        UpdateExpression:
          'SET #state = :sent, sentAt = :sentAt, removeAfter = :removeAfter, ' +
          'recipients = :recipients, expiresAt = :expires',
        ConditionExpression: '#state = :sending AND claimId = :claim',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':sent': 'SENT',
          ':sending': 'SENDING',
          ':claim': claimId,
          ':sentAt': sent.sentAt.toISOString(),
          ':removeAfter': sent.removeAfter.toISOString(),
          ':recipients': sent.recipients,
          ':expires': seconds(sent.removeAfter.getTime() + KEEP_AFTER_REMOVAL_MS),
        },
      }),
    );
  }

  /**
   * Marks the start of the reclaim the notice announced (so a run that dies during offboarding
   * is resumed by the next one), if the notice is still that one.
   */
  async recordReclaiming(tenantId: TenantId, notice: SentNotice, now: Date): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: noticeKey(tenantId),
        UpdateExpression: 'SET reclaimingAt = if_not_exists(reclaimingAt, :now)',
        ConditionExpression: '#state = :sent AND sentAt = :sentAt',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':sent': 'SENT',
          ':sentAt': notice.sentAt,
          ':now': now.toISOString(),
        },
      }),
    );
  }

  /** Records that the tenant was offboarded; the item stays until its TTL, for the record. */
  async recordReclaimed(tenantId: TenantId, now: Date): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: noticeKey(tenantId),
        UpdateExpression: 'SET reclaimedAt = :now',
        ConditionExpression: 'attribute_exists(reclaimingAt)',
        ExpressionAttributeValues: { ':now': now.toISOString() },
      }),
    );
  }

  /** Withdraws a sent notice (the tenant was used again), if it is still that one. */
  async clear(tenantId: TenantId, notice: SentNotice): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: noticeKey(tenantId),
        ConditionExpression: '#state = :sent AND sentAt = :sentAt',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':sent': 'SENT', ':sentAt': notice.sentAt },
      }),
    );
  }

  /** Sends a conditional write: false when its condition did not hold (another run was first). */
  private async conditional(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      if (command instanceof UpdateCommand) await this.db.send(command);
      else await this.db.send(command);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
