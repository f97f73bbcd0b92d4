import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { NotFoundError, ValidationError } from '../platform/errors.js';
import { TENANT_DATA_TABLE } from '../platform/table-schema.js';
import { type FieldCipher, openFields, sealFields } from './crypto.js';
import type { TenantItem, TenantPartition } from './data.js';
import type { TenantId } from './tenant.js';

/**
 * A feature's records in the tenant's own partition: what a tool gets from
 * `scope.collection(DEFINITION)`. Everything a new domain would otherwise write again is here:
 * keys under the collection's prefix, ids, sealing the sensitive fields under the tenant's key,
 * list pages that read the clear fields only (no KMS call), and paging cursors bound to the
 * tenant they were issued to.
 */

/** Time-ordered, unguessable: 9 base-36 characters of milliseconds, 12 hex of randomness. */
export const ITEM_ID_PATTERN = /^[a-z0-9]{21}$/;
export const ItemIdSchema = z.string().regex(ITEM_ID_PATTERN, 'not an id');

export function newItemId(now = Date.now()): string {
  return now.toString(36).padStart(9, '0') + randomBytes(6).toString('hex');
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** What every record of a collection has. */
type Identified = { readonly id: string };

/** Attribute names the table and the collection use themselves: no record field may take one. */
const RESERVED_FIELDS = [
  TENANT_DATA_TABLE.partitionKey,
  TENANT_DATA_TABLE.sortKey,
  'type',
  'sealed',
];
/** Sort-key prefixes other parts of the platform keep in the tenant's partition. */
const RESERVED_NAMES = ['SECRET'];

export interface CollectionDefinition<Item extends Identified, Sealed extends keyof Item> {
  /** The sort-key prefix of the collection's items (`NOTE#`). */
  readonly prefix: string;
  /** Stored with each item as `type`. */
  readonly type: string;
  /** What a caller is told for a missing id, a malformed id and another tenant's id alike. */
  readonly notFound: string;
  readonly sensitive: readonly Sealed[];
  /** The record as the domain sees it. */
  readonly schema: z.ZodType<Item>;
  /** Its `id` field: what `get` and `delete` accept before they ask the table. */
  readonly id: z.ZodType<string>;
  /** The record without its sensitive fields: what a list page shows. */
  readonly summary: z.ZodType<Omit<Item, Sealed>>;
  /** The record as stored: the clear fields and `sealed`. */
  readonly stored: z.ZodType<Record<string, unknown> & { sealed: Record<string, string> }>;
}

/**
 * Declares a collection. The stored and summary shapes are derived from `schema` and
 * `sensitive`: a field added to `sensitive` is sealed on write, opened on read and left out of
 * list pages, with nothing else to change.
 *
 * @example
 * export const TASKS = defineCollection({
 *   name: 'TASK', schema: TaskSchema, sensitive: ['details'], notFound: 'Task not found.',
 * });
 */
export function defineCollection<
  Shape extends { id: z.ZodType<string> } & z.ZodRawShape,
  Sealed extends keyof Shape & string,
>(spec: {
  /** Upper-case letters and underscores; the prefix is `<name>#`. */
  readonly name: string;
  readonly schema: z.ZodObject<Shape>;
  readonly sensitive: readonly Sealed[];
  readonly notFound: string;
}): CollectionDefinition<
  z.output<z.ZodObject<Shape>> & Identified,
  Sealed & keyof z.output<z.ZodObject<Shape>>
> {
  if (!/^[A-Z][A-Z_]{0,30}$/.test(spec.name)) {
    throw new Error(`A collection name is upper-case letters and underscores, not "${spec.name}"`);
  }
  if (RESERVED_NAMES.includes(spec.name)) {
    throw new Error(`The collection name "${spec.name}" is taken by the platform`);
  }
  const reserved = RESERVED_FIELDS.filter((field) => field in spec.schema.shape);
  if (reserved.length > 0) {
    throw new Error(`A record cannot have a field named ${reserved.join(', ')}`);
  }
  if ((spec.sensitive as readonly string[]).includes('id')) {
    throw new Error('The id keys the item: it cannot be sealed');
  }
  const mask = Object.fromEntries(spec.sensitive.map((field) => [field, true])) as never;
  // A plain (stripping) object whatever the schema's catch-all: a page never carries a key
  // the summary does not name, such as `sealed` or a field that was clear before.
  const summary = z.object(spec.schema.shape).omit(mask);
  return {
    prefix: `${spec.name}#`,
    type: spec.name.toLowerCase(),
    notFound: spec.notFound,
    sensitive: spec.sensitive as never,
    schema: spec.schema as never,
    id: spec.schema.shape.id,
    summary: summary as never,
    // Loose: a record written while a field was still clear keeps it until it is written again.
    stored: summary.extend({ sealed: z.record(z.string(), z.string().min(1)) }).loose() as never,
  };
}

export interface ListOptions {
  readonly limit: number;
  readonly cursor?: string;
}

/** One tenant's items of one collection. Built by the tenant's scope, never by a tool. */
export class TenantCollection<Item extends Identified, Sealed extends keyof Item> {
  constructor(
    private readonly partition: TenantPartition,
    private readonly cipher: FieldCipher,
    private readonly definition: CollectionDefinition<Item, Sealed>,
    private readonly now: () => number = Date.now,
  ) {
    if (cipher.tenantId !== partition.tenantId) {
      throw new Error('A collection needs the cipher of its own tenant');
    }
  }

  get tenantId(): TenantId {
    return this.partition.tenantId;
  }

  /** A new id, ordered by creation time. */
  newId(): string {
    return newItemId(this.now());
  }

  /** Stores a new item; an existing id is a ConflictError and the stored item stays as it was. */
  async create(item: Item): Promise<Item> {
    await this.partition.create(this.key(item.id), await this.seal(item));
    return item;
  }

  /** Overwrites an existing item; a missing one is a NotFoundError. */
  async replace(item: Item): Promise<Item> {
    await this.partition.replace(this.key(item.id), await this.seal(item)).catch(this.notFound);
    return item;
  }

  /** The item, or NotFoundError: the same answer for a missing id and another tenant's id. */
  async get(id: string): Promise<Item> {
    const item = this.isId(id) ? await this.partition.get(this.key(id)) : undefined;
    if (!item) throw new NotFoundError(this.definition.notFound);
    return this.open(item);
  }

  async delete(id: string): Promise<void> {
    if (!this.isId(id)) throw new NotFoundError(this.definition.notFound);
    await this.partition.delete(this.key(id)).catch(this.notFound);
  }

  /** Newest first, `limit` at a time, clear fields only (nothing is decrypted). */
  async list(options: ListOptions): Promise<Page<Omit<Item, Sealed>>> {
    const page = await this.partition.query(this.definition.prefix, {
      limit: options.limit,
      after: this.after(options.cursor),
    });
    return {
      items: page.items.map((item) => this.definition.summary.parse(item)),
      ...(page.lastSortKey ? { nextCursor: this.cursor(page.lastSortKey) } : {}),
    };
  }

  /**
   * Items that `match`, newest first, with their sealed fields opened. Matching happens here
   * rather than in a DynamoDB filter so that it works on sealed fields too; each call reads at
   * most `readBudget` items and returns a cursor to go on from there.
   */
  async find(
    match: (item: Item) => boolean,
    options: ListOptions & { readonly readBudget: number },
  ): Promise<Page<Item>> {
    const matches: Item[] = [];
    let after = this.after(options.cursor);
    let read = 0;
    while (read < options.readBudget) {
      const stored = await this.partition.query(this.definition.prefix, {
        limit: Math.min(100, options.readBudget - read),
        after,
      });
      read += stored.items.length;
      for (const raw of stored.items) {
        const item = await this.open(raw);
        if (!match(item)) continue;
        matches.push(item);
        if (matches.length === options.limit) {
          return { items: matches, nextCursor: this.cursor(this.key(item.id)) };
        }
      }
      if (!stored.lastSortKey) return { items: matches };
      after = stored.lastSortKey;
    }
    return after ? { items: matches, nextCursor: this.cursor(after) } : { items: matches };
  }

  private isId(id: string): boolean {
    return this.definition.id.safeParse(id).success;
  }

  private key(id: string): string {
    return this.definition.prefix + id;
  }

  private async seal(item: Item): Promise<TenantItem> {
    const valid = this.definition.schema.parse(item) as Record<string, unknown>;
    const sensitive = this.definition.sensitive as readonly string[];
    return { ...(await sealFields(valid, sensitive, this.cipher)), type: this.definition.type };
  }

  /** A stored item with its sealed fields decrypted; fails (generically) for anything not the tenant's. */
  private async open(item: TenantItem): Promise<Item> {
    return this.definition.schema.parse(
      await openFields(this.definition.stored.parse(item), this.cipher),
    );
  }

  private readonly notFound = (error: unknown): never => {
    throw error instanceof NotFoundError ? new NotFoundError(this.definition.notFound) : error;
  };

  private cursor(sortKey: string): string {
    return encodeCursor(this.tenantId, sortKey);
  }

  private after(cursor: string | undefined): string | undefined {
    return cursor === undefined
      ? undefined
      : decodeCursor(cursor, this.tenantId, this.definition.prefix);
  }
}

const CursorSchema = z.object({ v: z.literal(1), t: z.string(), k: z.string() });

/** An opaque cursor that names the tenant it was issued to. */
export function encodeCursor(tenantId: TenantId, sortKey: string): string {
  return Buffer.from(JSON.stringify({ v: 1, t: tenantId, k: sortKey })).toString('base64url');
}

/**
 * The sort key a cursor continues after. A cursor that is malformed, of another collection, or
 * that names another tenant, is refused with the same generic message; `CrossTenantCursorError`
 * lets the caller log the attempt. The cursor is not signed: editing it can at most move the
 * caller within its own partition, which every query is pinned to.
 */
export function decodeCursor(cursor: string, tenantId: TenantId, prefix: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('Invalid cursor.');
  }
  const parsed = CursorSchema.safeParse(decoded);
  if (!parsed.success) throw new ValidationError('Invalid cursor.');
  // The tenant first: another tenant's cursor is an attempt, whatever collection it is for.
  if (parsed.data.t !== tenantId) throw new CrossTenantCursorError();
  if (!parsed.data.k.startsWith(prefix)) throw new ValidationError('Invalid cursor.');
  return parsed.data.k;
}

export class CrossTenantCursorError extends ValidationError {
  constructor() {
    super('Invalid cursor.', { detail: 'cursor names another tenant' });
  }
}
