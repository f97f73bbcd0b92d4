import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { NotFoundError, ValidationError } from '../shared/platform/errors.js';
import { openFields, sealFields, type TenantCipher } from '../shared/tenancy/crypto.js';
import type { TenantItem, TenantTable } from '../shared/tenancy/data.js';
import type { TenantId } from '../shared/tenancy/tenant.js';

/**
 * Tenant notes: the small domain the tools serve. A forker replaces this file with their own
 * domain and keeps the rest; everything here goes through a `TenantTable`, so it cannot reach
 * another tenant's partition.
 */

const NOTE_PREFIX = 'NOTE#';

/** Time-ordered, unguessable: 9 base-36 characters of milliseconds, 12 hex of randomness. */
export const NoteIdSchema = z.string().regex(/^[a-z0-9]{21}$/, 'not a note id');

export const NoteSchema = z.object({
  id: NoteIdSchema,
  title: z.string(),
  body: z.string(),
  tags: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});
export type Note = z.infer<typeof NoteSchema>;

export const NoteSummarySchema = NoteSchema.pick({
  id: true,
  title: true,
  tags: true,
  createdAt: true,
});
export type NoteSummary = z.infer<typeof NoteSummarySchema>;

export const NoteInputSchema = z.object({
  title: z.string().trim().min(1).max(200),
  body: z.string().max(20_000),
  tags: z.array(z.string().trim().min(1).max(40)).max(10).default([]),
});
export type NoteInput = z.infer<typeof NoteInputSchema>;

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** How many stored notes one search call reads at most before it answers with a cursor. */
export const SEARCH_READ_BUDGET = 500;

export function newNoteId(now = Date.now()): string {
  return now.toString(36).padStart(9, '0') + randomBytes(6).toString('hex');
}

/** Fields stored only encrypted under the tenant's own key; the rest stays in the clear. */
export const SENSITIVE_NOTE_FIELDS = ['body'] as const;

/** A note as stored: the clear fields (to list, sort and page) and the sealed ones. */
const StoredNoteSchema = NoteSchema.omit({ body: true }).extend({
  sealed: z.record(z.string(), z.string().min(1)),
});

export class Notes {
  constructor(
    private readonly table: TenantTable,
    private readonly cipher: TenantCipher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: NoteInput, createdBy: string): Promise<Note> {
    const note: Note = {
      id: newNoteId(this.now().getTime()),
      ...input,
      createdBy,
      createdAt: this.now().toISOString(),
    };
    await this.table.create(NOTE_PREFIX + note.id, {
      ...(await sealFields(note, SENSITIVE_NOTE_FIELDS, this.cipher)),
      type: 'note',
    });
    return note;
  }

  /** The note, or NotFoundError: the same answer for a missing id and another tenant's id. */
  async get(id: string): Promise<Note> {
    const item = NoteIdSchema.safeParse(id).success
      ? await this.table.get(NOTE_PREFIX + id)
      : undefined;
    if (!item) throw new NotFoundError('Note not found.');
    return this.toNote(item);
  }

  async delete(id: string): Promise<void> {
    if (!NoteIdSchema.safeParse(id).success) throw new NotFoundError('Note not found.');
    await this.table.delete(NOTE_PREFIX + id).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new NotFoundError('Note not found.') : error;
    });
  }

  private toNote(item: TenantItem): Promise<Note> {
    return decryptNote(item, this.cipher);
  }

  /** Newest first, `limit` at a time; the cursor only works for this tenant. */
  async list(options: { limit: number; cursor?: string }): Promise<Page<NoteSummary>> {
    const after = options.cursor ? decodeCursor(options.cursor, this.table.tenantId) : undefined;
    const page = await this.table.query(NOTE_PREFIX, { limit: options.limit, after });
    return {
      items: page.items.map((item) => summaryOf(StoredNoteSchema.parse(item))),
      ...(page.lastSortKey
        ? { nextCursor: encodeCursor(this.table.tenantId, page.lastSortKey) }
        : {}),
    };
  }

  /**
   * Notes whose title, body or tags contain `query` (case-insensitive), newest first.
   *
   * Matching happens here rather than in a DynamoDB filter so that it keeps working when note
   * bodies are encrypted client-side. Each call reads at most SEARCH_READ_BUDGET notes and
   * returns a cursor to go on from there.
   */
  async search(
    query: string,
    options: { limit: number; cursor?: string },
  ): Promise<Page<NoteSummary>> {
    const needle = query.toLowerCase();
    const matches: NoteSummary[] = [];
    const page = (after: string) => ({
      items: matches,
      nextCursor: encodeCursor(this.table.tenantId, after),
    });
    let after = options.cursor ? decodeCursor(options.cursor, this.table.tenantId) : undefined;
    let read = 0;
    while (read < SEARCH_READ_BUDGET) {
      const stored = await this.table.query(NOTE_PREFIX, {
        limit: Math.min(100, SEARCH_READ_BUDGET - read),
        after,
      });
      read += stored.items.length;
      for (const item of stored.items) {
        const note = await this.toNote(item);
        if (!matchesQuery(note, needle)) continue;
        matches.push(summaryOf(note));
        if (matches.length === options.limit) return page(NOTE_PREFIX + note.id);
      }
      if (!stored.lastSortKey) return { items: matches };
      after = stored.lastSortKey;
    }
    return after ? page(after) : { items: matches };
  }
}

/** A stored note with its sealed fields decrypted; fails (generically) for anything not the tenant's. */
async function decryptNote(item: TenantItem, cipher: TenantCipher): Promise<Note> {
  return NoteSchema.parse(await openFields(StoredNoteSchema.parse(item), cipher));
}

function matchesQuery(note: Note, needle: string): boolean {
  return [note.title, note.body, ...note.tags].some((text) => text.toLowerCase().includes(needle));
}

function summaryOf({
  id,
  title,
  tags,
  createdAt,
}: Pick<Note, 'id' | 'title' | 'tags' | 'createdAt'>): NoteSummary {
  return { id, title, tags, createdAt };
}

const CursorSchema = z.object({
  v: z.literal(1),
  t: z.string(),
  k: z.string().startsWith(NOTE_PREFIX),
});

/** An opaque cursor that names the tenant it was issued to. */
export function encodeCursor(tenantId: TenantId, sortKey: string): string {
  return Buffer.from(JSON.stringify({ v: 1, t: tenantId, k: sortKey })).toString('base64url');
}

/**
 * The sort key a cursor continues after. A cursor that is malformed, or that names another
 * tenant, is refused with the same generic message; `CrossTenantCursorError` lets the caller
 * log the attempt. The cursor is not signed: editing it can at most move the caller within
 * its own partition, which every query is pinned to.
 */
export function decodeCursor(cursor: string, tenantId: TenantId): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('Invalid cursor.');
  }
  const parsed = CursorSchema.safeParse(decoded);
  if (!parsed.success) throw new ValidationError('Invalid cursor.');
  if (parsed.data.t !== tenantId) throw new CrossTenantCursorError();
  return parsed.data.k;
}

export class CrossTenantCursorError extends ValidationError {
  constructor() {
    super('Invalid cursor.', { detail: 'cursor names another tenant' });
  }
}
