import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../platform/aws-clients.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { abortWithRequest } from '../platform/request-scope.js';
import { TENANT_DATA_TABLE } from '../platform/table-schema.js';
import type { TenantContext } from './context.js';
import type { TenantCredentials } from './credentials.js';
import type { TenantId } from './tenant.js';

const { partitionKey: PK, sortKey: SK } = TENANT_DATA_TABLE;

/** An item of the tenant data table, without its keys. */
export type TenantItem = Record<string, unknown>;

export interface TenantDataOptions {
  readonly tableName: string;
  readonly credentials: TenantCredentials;
  /** Region, retries and the like; the endpoint comes from the environment. */
  readonly clientConfig?: DynamoDBClientConfig;
  /** How many tenants' clients one warm environment keeps. @default 64 */
  readonly maxCachedTenants?: number;
}

/**
 * The way into the tenant data table. The only way to get a handle on the table is
 * `forTenant(context)`, and that handle signs every request with credentials scoped to that
 * tenant and builds every key from that tenant's id: a tool cannot name another partition,
 * and if it tried, IAM (`dynamodb:LeadingKeys`) would refuse the call.
 */
export class TenantDataAccess {
  private readonly clients = new Map<TenantId, DynamoDBDocumentClient>();

  constructor(private readonly options: TenantDataOptions) {}

  forTenant(context: Pick<TenantContext, 'tenantId'>): TenantTable {
    return new TenantTable(
      this.clientFor(context.tenantId),
      this.options.tableName,
      context.tenantId,
    );
  }

  /**
   * A document client signed with the tenant's scoped credentials, for the few registry reads
   * the isolation role allows (the tenant's own record and member list).
   */
  scopedClient(context: Pick<TenantContext, 'tenantId'>): DynamoDBDocumentClient {
    return this.clientFor(context.tenantId);
  }

  private clientFor(tenantId: TenantId): DynamoDBDocumentClient {
    const existing = this.clients.get(tenantId);
    if (existing) {
      // Most recently used last, so the oldest is evicted first.
      this.clients.delete(tenantId);
      this.clients.set(tenantId, existing);
      return existing;
    }
    const base = new DynamoDBClient({
      ...this.options.clientConfig,
      credentials: () => this.options.credentials.forTenant(tenantId),
    });
    base.middlewareStack.use(abortWithRequest());
    const client = DynamoDBDocumentClient.from(base, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.clients.set(tenantId, client);
    if (this.clients.size > (this.options.maxCachedTenants ?? 64)) {
      const [oldest] = this.clients.keys();
      if (oldest !== undefined) {
        this.clients.get(oldest)?.destroy();
        this.clients.delete(oldest);
      }
    }
    return client;
  }
}

export interface QueryPage {
  readonly items: TenantItem[];
  /** The sort key to continue after, when there may be more. */
  readonly lastSortKey?: string;
}

/** One tenant's partition: what a collection (collection.ts) stores its items in. */
export interface TenantPartition {
  readonly tenantId: TenantId;
  get(sortKey: string): Promise<TenantItem | undefined>;
  /** Writes a new item; an existing item with the same key is a ConflictError. */
  create(sortKey: string, item: TenantItem): Promise<void>;
  /** Overwrites an existing item; a missing one is a NotFoundError. */
  replace(sortKey: string, item: TenantItem): Promise<void>;
  /** Deletes an item; a missing one is a NotFoundError. */
  delete(sortKey: string): Promise<void>;
  /** Items whose sort key starts with `prefix`, newest (highest key) first unless told. */
  query(
    prefix: string,
    options: { limit: number; after?: string; newestFirst?: boolean },
  ): Promise<QueryPage>;
}

/** One tenant's partition of the data table. Every key it builds carries its tenant id. */
export class TenantTable implements TenantPartition {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    readonly tenantId: TenantId,
  ) {}

  async get(sortKey: string): Promise<TenantItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(sortKey) }),
    );
    return Item && withoutKeys(Item);
  }

  /** Writes a new item; an existing item with the same key is a conflict and stays as it was. */
  create(sortKey: string, item: TenantItem): Promise<void> {
    return this.put(sortKey, item, `attribute_not_exists(${SK})`, () => {
      throw new ConflictError('The item already exists.');
    });
  }

  /** Overwrites an existing item; a missing item is a NotFoundError and nothing is written. */
  replace(sortKey: string, item: TenantItem): Promise<void> {
    return this.put(sortKey, item, `attribute_exists(${SK})`, () => {
      throw new NotFoundError();
    });
  }

  private async put(
    sortKey: string,
    item: TenantItem,
    condition: string,
    refused: () => never,
  ): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, ...this.key(sortKey) },
          ConditionExpression: condition,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) refused();
      throw error;
    }
  }

  /** Deletes an item; a missing item is a NotFoundError. */
  async delete(sortKey: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(sortKey),
          ConditionExpression: `attribute_exists(${SK})`,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError();
      throw error;
    }
  }

  /** Items whose sort key starts with `prefix`, newest (highest key) first. */
  async query(
    prefix: string,
    options: { limit: number; after?: string; newestFirst?: boolean },
  ): Promise<QueryPage> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': this.tenantId, ':prefix': prefix },
        Limit: options.limit,
        ScanIndexForward: !(options.newestFirst ?? true),
        ExclusiveStartKey: options.after ? this.key(options.after) : undefined,
      }),
    );
    const last = page.LastEvaluatedKey?.[SK];
    return {
      items: (page.Items ?? []).map(withoutKeys),
      ...(typeof last === 'string' ? { lastSortKey: last } : {}),
    };
  }

  private key(sortKey: string) {
    return { [PK]: this.tenantId, [SK]: sortKey };
  }
}

function withoutKeys(item: Record<string, unknown>): TenantItem {
  const { [PK]: _tenant, ...rest } = item;
  return rest;
}
