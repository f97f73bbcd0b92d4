/**
 * Tenancy in memory, for unit tests of features: a `TenantScope` whose partition and cipher
 * keep to the same rules as DynamoDB (conditional writes, key order, `LastEvaluatedKey` whenever
 * the limit is reached) and the AWS Encryption SDK under a per-tenant key (another tenant's
 * message does not open), so a feature test that passes here does not rely on kindness.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  ConflictError,
  InternalError,
  NotFoundError,
  ValidationError,
} from '../../lambda/shared/platform/errors.js';
import { TENANT_DATA_TABLE } from '../../lambda/shared/platform/table-schema.js';
import type { TenantContext } from '../../lambda/shared/tenancy/context.js';
import type { FieldCipher } from '../../lambda/shared/tenancy/crypto.js';
import type { QueryPage, TenantItem, TenantPartition } from '../../lambda/shared/tenancy/data.js';
import { scopeOf, type TenantScope } from '../../lambda/shared/tenancy/scope.js';
import type { TenantId } from '../../lambda/shared/tenancy/tenant.js';

const { partitionKey: PK, sortKey: SK } = TENANT_DATA_TABLE;
/** DynamoDB's item size limit. */
const MAX_ITEM_BYTES = 400 * 1024;

/** One table for every tenant, as in DynamoDB: partitions keep tenants apart, not the store. */
export class MemoryTable {
  readonly items = new Map<TenantId, Map<string, TenantItem>>();

  partition(tenantId: TenantId): TenantPartition {
    const own = () => {
      const items = this.items.get(tenantId) ?? new Map<string, TenantItem>();
      this.items.set(tenantId, items);
      return items;
    };
    // Items go in as the DocumentClient writes them (TenantTable: `removeUndefinedValues`, the
    // keys written over the item's own attributes): what it cannot marshal, or DynamoDB would
    // refuse as too large, is refused here too. A read gives the item back without its
    // partition key, as TenantTable does.
    const stored = (sortKey: string, item: TenantItem) => {
      const written = { ...item, [PK]: tenantId, [SK]: sortKey };
      const attributes = marshall(written, { removeUndefinedValues: true });
      if (Buffer.byteLength(JSON.stringify(attributes)) > MAX_ITEM_BYTES) {
        throw new ValidationError('Item size has exceeded the maximum allowed size');
      }
      return JSON.parse(JSON.stringify(written)) as TenantItem;
    };
    const read = (item: TenantItem | undefined) => {
      if (!item) return undefined;
      const { [PK]: _partition, ...rest } = structuredClone(item);
      return rest;
    };
    return {
      tenantId,
      get: async (sortKey) => read(own().get(sortKey)),
      create: async (sortKey, item) => {
        if (own().has(sortKey)) throw new ConflictError('The item already exists.');
        own().set(sortKey, stored(sortKey, item));
      },
      replace: async (sortKey, item) => {
        if (!own().has(sortKey)) throw new NotFoundError();
        own().set(sortKey, stored(sortKey, item));
      },
      delete: async (sortKey) => {
        if (!own().delete(sortKey)) throw new NotFoundError();
      },
      query: async (prefix, options): Promise<QueryPage> => {
        // DynamoDB: "Limit must be greater than or equal to 1".
        if (!(options.limit >= 1)) throw new ValidationError('Limit must be at least 1');
        const newestFirst = options.newestFirst ?? true;
        const keys = [...own().keys()]
          .filter((key) => key.startsWith(prefix))
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        if (newestFirst) keys.reverse();
        const start =
          options.after === undefined
            ? 0
            : keys.findIndex((key) => past(key, options.after as string, newestFirst));
        const page = start < 0 ? [] : keys.slice(start, start + options.limit);
        const last = page.at(-1);
        return {
          items: page.map((key) => read(own().get(key)) as TenantItem),
          // DynamoDB answers LastEvaluatedKey whenever the limit stopped the query.
          ...(page.length === options.limit && last !== undefined ? { lastSortKey: last } : {}),
        };
      },
    };
  }
}

function past(key: string, after: string, newestFirst: boolean): boolean {
  return newestFirst ? key < after : key > after;
}

/**
 * AES-256-GCM under a key of each tenant's own, with the tenant as associated data: a message
 * of one tenant does not open under another's cipher (an InternalError, as TenantCipher).
 */
export class MemoryKeys {
  private readonly keys = new Map<TenantId, Buffer>();

  cipher(tenantId: TenantId): FieldCipher {
    const own = this.keys.get(tenantId) ?? randomBytes(32);
    this.keys.set(tenantId, own);
    return {
      tenantId,
      encrypt: async (plaintext) => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', own, iv).setAAD(Buffer.from(tenantId));
        const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
        return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
      },
      decrypt: async (message) => {
        try {
          const bytes = Buffer.from(message, 'base64');
          const decipher = createDecipheriv('aes-256-gcm', own, bytes.subarray(0, 12))
            .setAAD(Buffer.from(tenantId))
            .setAuthTag(bytes.subarray(12, 28));
          return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString(
            'utf8',
          );
        } catch (error) {
          throw new InternalError(`Could not decrypt a message of tenant ${tenantId}`, {
            cause: error,
          });
        }
      },
    };
  }
}

export function memoryContext(
  tenantId: TenantId,
  overrides: Partial<TenantContext> = {},
): TenantContext {
  return {
    tenantId,
    tier: 'premium',
    role: 'admin',
    sub: `${tenantId}-user`,
    user: 'u_AAAAAAAAAAAAAAAAAAAAAA',
    clientId: 'client',
    kmsKeyArn: `arn:aws:kms:us-east-1:000000000000:key/${tenantId}`,
    sealWith: 'own',
    executionTenant: `tenant:${tenantId}`,
    ...overrides,
  };
}

/** Tenants that share one in-memory table and key store, as tenants share the deployed ones. */
export class MemoryTenancy {
  readonly table = new MemoryTable();
  readonly keys = new MemoryKeys();
  readonly secrets = new Map<string, string>();

  scope(
    context: TenantContext,
    overrides: Partial<Omit<TenantScope, 'context' | 'collection'>> = {},
  ): TenantScope {
    const { tenantId } = context;
    const unavailable = (what: string) => () => {
      throw new Error(`${what} is not part of this unit test`);
    };
    return scopeOf({
      context,
      partition: this.table.partition(tenantId),
      cipher: this.keys.cipher(tenantId),
      secrets: {
        get: async (name) => this.secrets.get(`${tenantId}/${name}`),
        put: async (name, value) => void this.secrets.set(`${tenantId}/${name}`, value),
      },
      directory: new Proxy(
        {},
        { get: (_, name) => unavailable(`directory.${String(name)}`) },
      ) as TenantScope['directory'],
      usage: { report: async () => [], budgetSpent: async () => 0 },
      audit: { report: unavailable('audit.report') },
      pseudonymOf: async (sub) =>
        `u_${createHash('sha256').update(sub).digest('base64url').slice(0, 22)}`,
      outbound: { allowLoopback: false },
      destinationCredential: unavailable('destinationCredential'),
      links: {
        invitation: (code) => `https://mcp.example.com/v1/invitations?code=${code}`,
        tokenEndpoint: 'https://mcp.example.com/v1/oauth/token',
      },
      logger: new Logger({ serviceName: 'unit', logLevel: 'SILENT' }),
      ...overrides,
    });
  }
}
