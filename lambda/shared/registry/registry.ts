import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isConditionFailure } from '../platform/aws-clients.js';
import { ConflictError, InternalError } from '../platform/errors.js';
import { REGISTRY_TABLE } from '../platform/table-schema.js';
import {
  type Role,
  RoleSchema,
  type TenantId,
  TenantIdSchema,
  type TenantStatus,
  TenantStatusSchema,
  TierNameSchema,
  WrappedDataKeySchema,
} from '../tenancy/tenant.js';
import { OrganizationNameSchema } from './organization.js';

/**
 * The tenant registry: who the tenants are, what state they are in, and which tenant each
 * user belongs to. Only server code writes it; no client-writable attribute ever decides a
 * user's tenant.
 *
 * Item layout (one table, `pk`/`sk`, index `byTenant` on `gsi1pk`/`gsi1sk`):
 *
 * | item       | pk            | sk           | gsi1pk        | gsi1sk        |
 * |------------|---------------|--------------|---------------|---------------|
 * | tenant     | TENANT#<id>   | TENANT       | TENANTS       | TENANT#<id>   |
 * | membership | USER#<sub>    | MEMBERSHIP   | TENANT#<id>   | USER#<sub>    |
 *
 * A user belongs to exactly one tenant: the membership is keyed by the user's Cognito `sub`.
 */

const Timestamp = z.iso.datetime();

/**
 * A tier change under way, and how far it got: `resources` (the new tier's keys are being made),
 * `sealing` (new fields go under the new key; old ones are re-sealed after `since` plus the
 * drain time), `retiring` (the tier is recorded; after `since` plus the drain time a second
 * pass re-seals what a late request wrote, then the old tier's resources go and the old key
 * leaves the record). Only one at a time per tenant: `id` names it.
 */
export const TierMigrationSchema = z.object({
  id: z.string().min(1).max(64),
  from: TierNameSchema,
  to: TierNameSchema,
  step: z.enum(['resources', 'sealing', 'retiring']),
  since: Timestamp,
  /** Where a paused re-sealing goes on: the sort key of the last item it did. */
  cursor: z.string().min(1).max(1024).optional(),
});
export type TierMigration = z.infer<typeof TierMigrationSchema>;

export const TenantRecordSchema = z.object({
  tenantId: TenantIdSchema,
  name: z.string().min(1).max(128),
  tier: TierNameSchema,
  status: TenantStatusSchema,
  /** The user whose sign-up created the tenant. */
  ownerSub: z.string().min(1).max(128).optional(),
  /** The tenant's own KMS key (provisioning). */
  kmsKeyArn: z.string().startsWith('arn:').optional(),
  /** The tenant's API key in its tier's usage plan (provisioning). */
  apiKeyId: z.string().min(1).optional(),
  /** Its value, which the authorizer hands API Gateway as `usageIdentifierKey`. */
  apiKeyValue: z.string().min(20).optional(),
  /** A pooled tier's tenant: its data key, wrapped by the pooled KMS key (crypto.ts). */
  dataKey: WrappedDataKeySchema.optional(),
  /** A tier change under way (lambda/shared/lifecycle/tier-migration.ts). */
  migration: TierMigrationSchema.optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type TenantRecord = z.infer<typeof TenantRecordSchema>;

export const MembershipRecordSchema = z.object({
  userSub: z.string().min(1).max(128),
  tenantId: TenantIdSchema,
  role: RoleSchema,
  email: z.string().max(254).optional(),
  createdAt: Timestamp,
});
export type MembershipRecord = z.infer<typeof MembershipRecordSchema>;

const { partitionKey: PK, sortKey: SK, byTenantIndex } = REGISTRY_TABLE;
const { tenantKeyPrefix: TENANT, userKeyPrefix: USER, lockKeyPrefix: LOCK } = REGISTRY_TABLE;
const tenantKey = (tenantId: TenantId) => ({ [PK]: `${TENANT}${tenantId}`, [SK]: 'TENANT' });
const membershipKey = (userSub: string) => ({ [PK]: `${USER}${userSub}`, [SK]: 'MEMBERSHIP' });
const membersLockKey = (tenantId: TenantId) => ({ [PK]: `${LOCK}${tenantId}`, [SK]: 'MEMBERS' });

export class TenantRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The tenant, read strongly consistent so a suspension takes effect on the next read. */
  async getTenant(tenantId: TenantId): Promise<TenantRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: tenantKey(tenantId), ConsistentRead: true }),
    );
    const record = Item && parseRecord(TenantRecordSchema, Item, `tenant ${tenantId}`);
    if (record && record.tenantId !== tenantId) {
      throw new InternalError(`Registry item TENANT#${tenantId} names tenant ${record.tenantId}`);
    }
    return record;
  }

  /** The user's membership, or undefined for a user who belongs to no tenant. */
  async getMembership(userSub: string): Promise<MembershipRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: membershipKey(userSub),
        ConsistentRead: true,
      }),
    );
    const record = Item && parseRecord(MembershipRecordSchema, Item, 'membership');
    if (record && record.userSub !== userSub) {
      throw new InternalError('Registry membership item names another user than its key');
    }
    return record;
  }

  /** Creates a tenant; a tenant id is never reused, so an existing one is a conflict. */
  async createTenant(
    input: Pick<TenantRecord, 'tenantId' | 'name' | 'tier' | 'status' | 'ownerSub'>,
  ): Promise<TenantRecord> {
    const at = this.now().toISOString();
    // Every tenant's name passes the one organisation-name rule, whoever creates it.
    const name = OrganizationNameSchema.parse(input.name);
    const record = TenantRecordSchema.parse({ ...input, name, createdAt: at, updatedAt: at });
    await this.putIfAbsent(
      {
        ...tenantKey(record.tenantId),
        [byTenantIndex.partitionKey]: REGISTRY_TABLE.allTenantsKey,
        [byTenantIndex.sortKey]: `TENANT#${record.tenantId}`,
        ...record,
      },
      'The tenant already exists.',
    );
    return record;
  }

  /** Adds a user to a tenant. A user who already belongs to a tenant cannot join another. */
  async createMembership(
    input: Pick<MembershipRecord, 'userSub' | 'tenantId' | 'role' | 'email'>,
  ): Promise<MembershipRecord> {
    const record = MembershipRecordSchema.parse({ ...input, createdAt: this.now().toISOString() });
    await this.putIfAbsent(
      {
        ...membershipKey(record.userSub),
        [byTenantIndex.partitionKey]: `TENANT#${record.tenantId}`,
        [byTenantIndex.sortKey]: `USER#${record.userSub}`,
        ...record,
      },
      'The user already belongs to a tenant.',
    );
    return record;
  }

  /**
   * Moves a tenant from one of the `from` states to `to`, atomically: if another writer moved
   * it first, or the tenant does not exist, nothing changes and a ConflictError is thrown.
   */
  async transitionTenant(
    tenantId: TenantId,
    transition: { from: readonly TenantStatus[]; to: TenantStatus },
  ): Promise<TenantRecord> {
    if (transition.from.length === 0) throw new Error('transitionTenant needs a `from` state');
    const from = transition.from.map((status, i) => [`:from${i}`, status] as const);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: 'SET #status = :to, updatedAt = :at',
          ConditionExpression: `attribute_exists(${PK}) AND #status IN (${from.map(([name]) => name).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':to': transition.to,
            ':at': this.now().toISOString(),
            ...Object.fromEntries(from),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseRecord(TenantRecordSchema, Attributes ?? {}, `tenant ${tenantId}`);
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError('The tenant is not in a state that allows this change.', {
          cause: error,
          detail: `tenant ${tenantId} not in [${transition.from.join(', ')}] for -> ${transition.to}`,
        });
      }
      throw error;
    }
  }

  /**
   * Records resources created for the tenant. The tenant must exist and, when given, be in
   * `onlyIf.status` and have none of the fields recorded yet (`onlyIf.unset`): a provisioner
   * that lost a race to offboarding, or to another run, learns it from the ConflictError.
   */
  async recordTenantResources(
    tenantId: TenantId,
    resources: Partial<
      Pick<TenantRecord, 'kmsKeyArn' | 'apiKeyId' | 'apiKeyValue' | 'tier' | 'dataKey'>
    >,
    onlyIf: { status?: TenantStatus; unset?: boolean } = {},
  ): Promise<void> {
    const entries = Object.entries(resources).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    const names = Object.fromEntries(entries.map(([key], i) => [`#f${i}`, key]));
    const values = Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value]));
    const conditions = [`attribute_exists(${PK})`];
    if (onlyIf.status) conditions.push('#status = :status');
    if (onlyIf.unset) conditions.push(...entries.map((_, i) => `attribute_not_exists(#f${i})`));
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}, updatedAt = :at`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: { ...names, ...(onlyIf.status ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: {
            ...values,
            ':at': this.now().toISOString(),
            ...(onlyIf.status ? { ':status': onlyIf.status } : {}),
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError('The tenant changed meanwhile.', { cause: error });
      }
      throw error;
    }
  }

  /**
   * Starts a tier change of an ACTIVE tenant: ConflictError if one is already under way (or the
   * tenant is not active), so two changes of one tenant never run at once.
   */
  async beginMigration(tenantId: TenantId, migration: TierMigration): Promise<TenantRecord> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: 'SET migration = :migration, updatedAt = :at',
          ConditionExpression: `attribute_exists(${PK}) AND #status = :active AND attribute_not_exists(migration) AND tier = :from`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':migration': TierMigrationSchema.parse(migration),
            ':active': 'ACTIVE',
            ':from': migration.from,
            ':at': this.now().toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseRecord(TenantRecordSchema, Attributes ?? {}, `tenant ${tenantId}`);
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          'A tier change of this organisation is already under way, or it is not active.',
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * One step of the tier change `migrationId`: sets and removes tenant attributes (`migration`
   * itself among them) only while that change is the one under way; a ConflictError otherwise.
   * `unset` lists attributes `set` may only create, not overwrite.
   */
  async advanceMigration(
    tenantId: TenantId,
    migrationId: string,
    change: {
      set?: Partial<
        Pick<
          TenantRecord,
          'tier' | 'kmsKeyArn' | 'apiKeyId' | 'apiKeyValue' | 'dataKey' | 'migration'
        >
      >;
      remove?: ReadonlyArray<'kmsKeyArn' | 'apiKeyId' | 'apiKeyValue' | 'dataKey' | 'migration'>;
      unset?: ReadonlyArray<'kmsKeyArn' | 'apiKeyId' | 'apiKeyValue' | 'dataKey'>;
    },
  ): Promise<void> {
    const set = Object.entries(change.set ?? {}).filter(([, value]) => value !== undefined);
    const remove = change.remove ?? [];
    const names: Record<string, string> = { '#migration': 'migration', '#id': 'id' };
    const values: Record<string, unknown> = { ':id': migrationId, ':at': this.now().toISOString() };
    const assignments = ['updatedAt = :at'];
    set.forEach(([key, value], i) => {
      names[`#s${i}`] = key;
      values[`:s${i}`] = value;
      assignments.push(`#s${i} = :s${i}`);
    });
    remove.forEach((key, i) => {
      names[`#r${i}`] = key;
    });
    // Never once the tenant is being offboarded: the change stops there.
    const conditions = ['#migration.#id = :id', '#status = :active'];
    names['#status'] = 'status';
    values[':active'] = 'ACTIVE';
    for (const key of change.unset ?? []) {
      const i = set.findIndex(([name]) => name === key);
      if (i >= 0) conditions.push(`(attribute_not_exists(#s${i}) OR #s${i} = :s${i})`);
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression:
            `SET ${assignments.join(', ')}` +
            (remove.length ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : ''),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError('The tier change was overtaken.', {
          cause: error,
          detail: `tenant ${tenantId} migration ${migrationId}`,
        });
      }
      throw error;
    }
  }

  /**
   * Deletes an offboarding tenant's wrapped data key: nothing the platform holds opens what was
   * sealed under it any more (a pooled tenant's crypto-shredding; SECURITY.md says what a
   * backup of this table still holds).
   */
  async forgetDataKey(tenantId: TenantId): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: tenantKey(tenantId),
        UpdateExpression: 'REMOVE dataKey SET updatedAt = :at',
        ConditionExpression: '#status = :offboarding',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':offboarding': 'OFFBOARDING',
          ':at': this.now().toISOString(),
        },
      }),
    );
  }

  /** Every tenant, by query on the `byTenant` index (one partition; operators only). */
  async listTenants(): Promise<TenantRecord[]> {
    return this.queryIndex(REGISTRY_TABLE.allTenantsKey, TENANT, TenantRecordSchema, 'tenant');
  }

  /** Changes a member's role; the membership must belong to `tenantId`. */
  async setMemberRole(userSub: string, tenantId: TenantId, role: Role): Promise<void> {
    await this.onMembership(
      new UpdateCommand({
        TableName: this.tableName,
        Key: membershipKey(userSub),
        UpdateExpression: 'SET #role = :role',
        ConditionExpression: `attribute_exists(${PK}) AND tenantId = :tenant`,
        ExpressionAttributeNames: { '#role': 'role' },
        ExpressionAttributeValues: { ':role': RoleSchema.parse(role), ':tenant': tenantId },
      }),
    );
  }

  /** Removes a user from `tenantId` (and only from it). */
  async removeMembership(userSub: string, tenantId: TenantId): Promise<void> {
    await this.onMembership(
      new DeleteCommand({
        TableName: this.tableName,
        Key: membershipKey(userSub),
        ConditionExpression: 'tenantId = :tenant',
        ExpressionAttributeValues: { ':tenant': tenantId },
      }),
    );
  }

  /**
   * Takes the tenant's members lease for `holder`, for `ttlMs`: the one lease under which a
   * member is removed or demoted, so two admins demoting each other at once cannot leave the
   * tenant without one. A lease left by a crashed holder expires. ConflictError while another
   * holds it.
   */
  async lockMembers(tenantId: TenantId, holder: string, ttlMs: number): Promise<void> {
    const now = this.now().getTime();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...membersLockKey(tenantId), holder, expiresAt: now + ttlMs },
          ConditionExpression: `attribute_not_exists(${PK}) OR expiresAt < :now`,
          ExpressionAttributeValues: { ':now': now },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError('Another change to the members is under way; try again.', {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Gives the lease back, if `holder` still has it (an expired one may have passed on). */
  async unlockMembers(tenantId: TenantId, holder: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: membersLockKey(tenantId),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Sends a write conditioned on the membership's tenant; a mismatch is a ConflictError. */
  private async onMembership(command: UpdateCommand | DeleteCommand): Promise<void> {
    try {
      await this.db.send(command);
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError('The user is not a member.');
      throw error;
    }
  }

  /** The tenant's memberships, by query on the `byTenant` index (never a Scan). */
  async listMembers(tenantId: TenantId): Promise<MembershipRecord[]> {
    return this.queryIndex(`TENANT#${tenantId}`, 'USER#', MembershipRecordSchema, 'membership');
  }

  private async queryIndex<T>(
    partition: string,
    sortPrefix: string,
    schema: z.ZodType<T>,
    what: string,
  ): Promise<T[]> {
    const records: T[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: byTenantIndex.indexName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: {
            '#pk': byTenantIndex.partitionKey,
            '#sk': byTenantIndex.sortKey,
          },
          ExpressionAttributeValues: { ':pk': partition, ':prefix': sortPrefix },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) records.push(parseRecord(schema, item, what));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  private async putIfAbsent(item: Record<string, unknown>, conflictMessage: string) {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(conflictMessage, { cause: error });
      }
      throw error;
    }
  }
}

/** A registry item that does not match its schema is never used as is: it is an error. */
function parseRecord<T>(schema: z.ZodType<T>, item: Record<string, unknown>, what: string): T {
  const result = schema.safeParse(item);
  if (!result.success) {
    throw new InternalError(`Malformed registry item (${what}): ${z.prettifyError(result.error)}`);
  }
  return result.data;
}
