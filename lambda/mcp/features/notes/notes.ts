import * as z from 'zod';
import { defineCollection, ITEM_ID_PATTERN } from '../../../shared/tenancy/collection.js';

/**
 * Tenant notes: the small domain the tools serve. Stored in the tenant's own partition as a
 * collection (`NOTE#<id>`); the body is sealed under the tenant's key.
 */

/** A collection id that says what it is when it is malformed. */
export const NoteIdSchema = z
  .string()
  .regex(ITEM_ID_PATTERN, 'not a note id')
  .describe('The note id');

export const NoteSchema = z.object({
  id: NoteIdSchema,
  title: z.string(),
  body: z.string(),
  tags: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});
export type Note = z.infer<typeof NoteSchema>;

export const NoteInputSchema = z.object({
  title: z.string().trim().min(1).max(200),
  body: z.string().max(20_000),
  tags: z.array(z.string().trim().min(1).max(40)).max(10).default([]),
});
export type NoteInput = z.infer<typeof NoteInputSchema>;

/** Fields stored only encrypted under the tenant's own key; the rest stays in the clear. */
export const SENSITIVE_NOTE_FIELDS = ['body'] as const;

export const NOTES = defineCollection({
  name: 'NOTE',
  schema: NoteSchema,
  sensitive: SENSITIVE_NOTE_FIELDS,
  notFound: 'Note not found.',
});

/** What a page of notes shows: never a sensitive field (they are not read to list). */
export const NoteSummarySchema = NoteSchema.pick({
  id: true,
  title: true,
  tags: true,
  createdAt: true,
});
export type NoteSummary = z.infer<typeof NoteSummarySchema>;

export function summaryOf({ id, title, tags, createdAt }: NoteSummary): NoteSummary {
  return { id, title, tags, createdAt };
}

/** How many stored notes one search call reads at most before it answers with a cursor. */
export const SEARCH_READ_BUDGET = 500;

/** Whether the note's title, body or a tag contains `query`, case-insensitively. */
export function matchesQuery(note: Note, query: string): boolean {
  const needle = query.toLowerCase();
  return [note.title, note.body, ...note.tags].some((text) => text.toLowerCase().includes(needle));
}
