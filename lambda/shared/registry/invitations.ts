import { randomBytes } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isConditionFailure } from '../platform/aws-clients.js';
import {
  ConflictError,
  InternalError,
  NotFoundError,
  ValidationError,
} from '../platform/errors.js';
import { REGISTRY_TABLE } from '../platform/table-schema.js';
import { type Role, RoleSchema, type TenantId, TenantIdSchema } from '../tenancy/tenant.js';
import {
  matchesDigest,
  newSecret,
  partitionItems,
  SECRET_PATTERN,
  secretDigest,
} from './partition.js';

/**
 * Invitations are offers, never accounts: inviting an address creates nothing in the user pool,
 * so no tenant can claim a person. The invited person accepts by signing up through the
 * invitation's link with that very address (the pre-sign-up trigger checks the offer, the
 * post-confirmation trigger takes it); until then they may sign up their own organisation or
 * accept another's, and the inviting admin learns nothing about which.
 *
 * Items, in the registry table, one partition per tenant (`INVITES#<tenant>`):
 *
 * | item       | pk                 | sk               |
 * |------------|--------------------|------------------|
 * | invitation | INVITES#<tenant>   | INVITE#<id>      |
 * | day count  | INVITES#<tenant>   | DAY#<yyyy-mm-dd> |
 *
 * The code in the link is `<tenant>.<id>.<secret>`; only the secret's SHA-256 is stored.
 */

/** Offers a tenant may make per UTC day: acceptances cost the pool's e-mail (sign-up codes). */
export const INVITATIONS_PER_DAY = 20;
/** How long an offer stands. */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

const InvitationIdSchema = z.string().regex(/^[0-9a-f]{16}$/);
export const InvitationStatusSchema = z.enum(['PENDING', 'ACCEPTED', 'REVOKED']);

export const InvitationRecordSchema = z.object({
  invitationId: InvitationIdSchema,
  tenantId: TenantIdSchema,
  email: z.string().max(254),
  role: RoleSchema,
  status: InvitationStatusSchema,
  secretHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  acceptedBy: z.string().max(128).optional(),
});
export type InvitationRecord = z.infer<typeof InvitationRecordSchema>;

/** An offer as an admin sees it: no secret; EXPIRED once past its time. */
export interface InvitationView {
  readonly invitationId: string;
  readonly email: string;
  readonly role: Role;
  readonly status: 'PENDING' | 'ACCEPTED' | 'REVOKED' | 'EXPIRED';
  readonly expiresAt: string;
}

/** One answer for every unusable code: unknown, tampered, expired, revoked, used, other address. */
export const INVALID_INVITATION =
  'This invitation is not valid for this address: it may have expired or been withdrawn.';

const { partitionKey: PK, sortKey: SK, invitesKeyPrefix: INVITES } = REGISTRY_TABLE;
const partition = (tenantId: TenantId) => `${INVITES}${tenantId}`;
const invitationKey = (tenantId: TenantId, id: string) => ({
  [PK]: partition(tenantId),
  [SK]: `INVITE#${id}`,
});

export class Invitations {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * A new offer for `email` to join `tenantId` as `role`, and the code of its link (shown
   * once). Refused (ConflictError) past INVITATIONS_PER_DAY for the tenant today.
   */
  async create(
    tenantId: TenantId,
    email: string,
    role: Role,
  ): Promise<{ invitation: InvitationRecord; code: string }> {
    const now = this.now();
    await this.countToday(tenantId, now);
    const invitationId = randomBytes(8).toString('hex');
    const secret = newSecret();
    const invitation = InvitationRecordSchema.parse({
      invitationId,
      tenantId,
      email,
      role,
      status: 'PENDING',
      secretHash: secretDigest(secret),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
    });
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...invitationKey(tenantId, invitationId), ...invitation },
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
    );
    return { invitation, code: `${tenantId}.${invitationId}.${secret}` };
  }

  /** The tenant's offers, newest first. */
  async list(tenantId: TenantId): Promise<InvitationView[]> {
    const items = await partitionItems(this.db, this.tableName, partition(tenantId), 'INVITE#');
    return items
      .map((item) => this.view(parse(item)))
      .sort((a, b) => b.expiresAt.localeCompare(a.expiresAt));
  }

  /** Withdraws a pending offer of this tenant; NotFoundError for anything else. */
  async revoke(tenantId: TenantId, invitationId: string): Promise<void> {
    if (!InvitationIdSchema.safeParse(invitationId).success) {
      throw new NotFoundError('No such pending invitation.');
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: invitationKey(tenantId, invitationId),
          UpdateExpression: 'SET #status = :revoked',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':revoked': 'REVOKED', ':pending': 'PENDING' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new NotFoundError('No such pending invitation.', { cause: error });
      }
      throw error;
    }
  }

  /**
   * The pending, unexpired offer a code stands for, if it was made for `email` (or the offer
   * `acceptedBy` took already); otherwise a ValidationError with one message for every reason
   * (nothing to tell one case from another).
   */
  async check(code: string, email: string, acceptedBy?: string): Promise<InvitationRecord> {
    const invitation = await this.find(code);
    const now = this.now().toISOString();
    // The same person taking it again (a retried trigger) finds it as they left it.
    if (invitation?.status === 'ACCEPTED' && acceptedBy && invitation.acceptedBy === acceptedBy) {
      return invitation;
    }
    if (
      invitation?.status !== 'PENDING' ||
      invitation.expiresAt <= now ||
      invitation.email !== email.trim().toLowerCase()
    ) {
      throw new ValidationError(INVALID_INVITATION);
    }
    return invitation;
  }

  /**
   * Takes the offer for the user `sub` (who has confirmed `email`): PENDING becomes ACCEPTED,
   * atomically, so an offer is taken once. Taking it again for the same user (a retried
   * trigger) answers the same; anything else is a ValidationError.
   */
  async accept(code: string, email: string, sub: string): Promise<InvitationRecord> {
    const found = await this.find(code);
    if (found?.status === 'ACCEPTED' && found.acceptedBy === sub) return found;
    const invitation = await this.check(code, email);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: invitationKey(invitation.tenantId, invitation.invitationId),
          UpdateExpression: 'SET #status = :accepted, acceptedBy = :sub',
          ConditionExpression: '#status = :pending AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':accepted': 'ACCEPTED',
            ':pending': 'PENDING',
            ':sub': sub,
            ':now': this.now().toISOString(),
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ValidationError(INVALID_INVITATION);
      throw error;
    }
    return { ...invitation, status: 'ACCEPTED', acceptedBy: sub };
  }

  /** The offer a well-formed code with the right secret names, or undefined. */
  private async find(code: string): Promise<InvitationRecord | undefined> {
    const [tenantId = '', invitationId = '', secret = '', extra] = code.split('.');
    if (
      extra !== undefined ||
      !TenantIdSchema.safeParse(tenantId).success ||
      !InvitationIdSchema.safeParse(invitationId).success ||
      !SECRET_PATTERN.test(secret)
    ) {
      return undefined;
    }
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: invitationKey(tenantId, invitationId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const invitation = parse(Item);
    return matchesDigest(secret, invitation.secretHash) && invitation.tenantId === tenantId
      ? invitation
      : undefined;
  }

  /** Counts one more offer today, refusing the one past the daily limit. */
  private async countToday(tenantId: TenantId, now: Date): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: partition(tenantId), [SK]: `DAY#${now.toISOString().slice(0, 10)}` },
          UpdateExpression: 'ADD #count :one',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':limit': INVITATIONS_PER_DAY },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          `Your organisation has sent its ${INVITATIONS_PER_DAY} invitations for today; try again tomorrow.`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private view(invitation: InvitationRecord): InvitationView {
    const expired =
      invitation.status === 'PENDING' && invitation.expiresAt <= this.now().toISOString();
    return {
      invitationId: invitation.invitationId,
      email: invitation.email,
      role: invitation.role,
      status: expired ? 'EXPIRED' : invitation.status,
      expiresAt: invitation.expiresAt,
    };
  }
}

function parse(item: Record<string, unknown>): InvitationRecord {
  const result = InvitationRecordSchema.safeParse(item);
  if (!result.success) throw new InternalError('Malformed registry item (invitation)');
  return result.data;
}
