import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../shared/platform/aws-clients.js';
import { OAUTH_TABLE } from '../shared/platform/table-schema.js';

/** An authorization request between the client's redirect and Cognito's answer. */
export interface Transaction {
  readonly clientId: string;
  readonly redirectUri: string;
  /** Whether the client named the redirect URI (then the token request must name it too). */
  readonly redirectUriGiven: boolean;
  readonly state?: string;
  readonly codeChallenge: string;
  readonly scope: string;
  /** The façade's own PKCE verifier towards Cognito. */
  readonly upstreamVerifier: string;
  /** Digest of the secret cookie of the browser that started the request. */
  readonly browserDigest: string;
  /** Whether the person approved the client on the consent page. */
  readonly approved: boolean;
}

/** A one-time façade code: the client's request, and Cognito's tokens sealed under the code. */
export interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scope: string;
  readonly redirectUriGiven?: boolean;
  readonly sealedTokens: string;
  readonly usedAt?: number;
}

export interface RegisteredClient {
  readonly clientId: string;
  readonly redirectUris: string[];
  readonly clientName?: string;
  readonly issuedAt: number;
}

type Item<T> = T & { pk: string; expiresAt: number };

/**
 * The façade's records in its table, one item per key: written with conditions so a code, a
 * transaction or a refresh token is taken once even by concurrent requests, and read with an
 * expiry check because DynamoDB's TTL deletes late (and dynalite never does).
 */
export class FacadeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private nowSeconds() {
    return Math.floor(this.now() / 1000);
  }

  private async put(pk: string, value: object, ttlSeconds: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...value,
          [OAUTH_TABLE.partitionKey]: pk,
          expiresAt: this.nowSeconds() + ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** Deletes and returns the item, if it existed and had not expired: one caller gets it. */
  private async take<T>(pk: string): Promise<T | undefined> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk }, ReturnValues: 'ALL_OLD' }),
    );
    const item = Attributes as Item<T> | undefined;
    return item && item.expiresAt > this.nowSeconds() ? item : undefined;
  }

  private async get<T>(pk: string): Promise<Item<T> | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
    );
    const item = Item as Item<T> | undefined;
    return item && item.expiresAt > this.nowSeconds() ? item : undefined;
  }

  /** A conditional update: true if it was made, false if its condition did not hold. */
  private async updateIf(
    input: Omit<UpdateCommandInput, 'TableName' | 'Key'> & { pk: string },
  ): Promise<boolean> {
    const { pk, ...update } = input;
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, Key: { pk }, ...update }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  putTransaction(id: string, txn: Transaction, ttlSeconds: number) {
    return this.put(`TXN#${id}`, txn, ttlSeconds);
  }

  takeTransaction(id: string) {
    return this.take<Transaction>(`TXN#${id}`);
  }

  getTransaction(id: string) {
    return this.get<Transaction>(`TXN#${id}`);
  }

  /** Marks an unexpired, unapproved transaction approved; false if it was not (any more). */
  approveTransaction(id: string): Promise<boolean> {
    return this.updateIf({
      pk: `TXN#${id}`,
      UpdateExpression: 'SET approved = :yes',
      ConditionExpression: 'attribute_exists(pk) AND approved = :no AND expiresAt > :now',
      ExpressionAttributeValues: { ':yes': true, ':no': false, ':now': this.nowSeconds() },
    });
  }

  putCode(codeDigest: string, record: CodeRecord, ttlSeconds: number) {
    return this.put(`CODE#${codeDigest}`, record, ttlSeconds);
  }

  /**
   * Marks the code used and returns it, once. A second presentation gets `{ replayed }` with
   * the record (so its tokens can be revoked); an unknown or expired code gets undefined.
   */
  async takeCode(
    codeDigest: string,
  ): Promise<{ record: CodeRecord; replayed: boolean } | undefined> {
    const pk = `CODE#${codeDigest}`;
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk },
          UpdateExpression: 'SET usedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(usedAt) AND expiresAt > :now',
          ExpressionAttributeValues: { ':now': this.nowSeconds() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { record: Attributes as CodeRecord, replayed: false };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
      );
      const item = Item as Item<CodeRecord> | undefined;
      return item?.usedAt !== undefined ? { record: item, replayed: true } : undefined;
    }
  }

  putClient(client: RegisteredClient, ttlSeconds: number) {
    return this.put(`CLIENT#${client.clientId}`, client, ttlSeconds);
  }

  getClient(clientId: string) {
    return this.get<RegisteredClient>(`CLIENT#${clientId}`);
  }

  /** Binds a refresh token to its client; binding it again to the same client is no error. */
  async putRefreshBinding(tokenDigest: string, clientId: string, ttlSeconds: number) {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `REFRESH#${tokenDigest}`, clientId, expiresAt: this.nowSeconds() + ttlSeconds },
        ConditionExpression: 'attribute_not_exists(pk) OR clientId = :clientId',
        ExpressionAttributeValues: { ':clientId': clientId },
      }),
    );
  }

  /** Lets a rotated-away refresh token work only for Cognito's grace period from now. */
  async expireRefreshBinding(tokenDigest: string, graceSeconds: number): Promise<void> {
    await this.updateIf({
      pk: `REFRESH#${tokenDigest}`,
      UpdateExpression: 'SET expiresAt = :until',
      ConditionExpression: 'attribute_exists(pk) AND expiresAt > :until',
      ExpressionAttributeValues: { ':until': this.nowSeconds() + graceSeconds },
    });
  }

  getRefreshBinding(tokenDigest: string) {
    return this.get<{ clientId: string }>(`REFRESH#${tokenDigest}`);
  }

  async deleteRefreshBinding(tokenDigest: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: `REFRESH#${tokenDigest}` } }),
    );
  }

  /** Keeps a registered client while it is in use: its expiry moves on with every sign-in. */
  async extendClient(clientId: string, ttlSeconds: number): Promise<void> {
    await this.updateIf({
      pk: `CLIENT#${clientId}`,
      UpdateExpression: 'SET expiresAt = :expires',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':expires': this.nowSeconds() + ttlSeconds },
    });
  }

  /** How many events a window counter holds (0 for none, or one whose window has passed). */
  async count(key: string): Promise<number> {
    const item = await this.get<{ count?: number }>(key);
    return item?.count ?? 0;
  }

  /** Adds `by` to a window counter, whatever its count (-1 gives back what `admit` took). */
  async increment(key: string, ttlSeconds: number, by = 1): Promise<void> {
    await this.updateIf({
      pk: key,
      UpdateExpression: 'ADD #count :by SET expiresAt = if_not_exists(expiresAt, :expires)',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':by': by, ':expires': this.nowSeconds() + ttlSeconds },
    });
  }

  /**
   * Counts one event in each window counter, all or nothing in effect: false when a counter is
   * at its limit (the counters already raised stay raised, which only errs towards refusing).
   */
  async admit(counters: ReadonlyArray<{ key: string; limit: number; ttlSeconds: number }>) {
    for (const { key, limit, ttlSeconds } of counters) {
      const counted = await this.updateIf({
        pk: key,
        UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expires)',
        ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':limit': limit,
          ':expires': this.nowSeconds() + ttlSeconds,
        },
      });
      if (!counted) return false;
    }
    return true;
  }
}
