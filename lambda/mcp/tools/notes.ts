import * as z from 'zod';
import { ForbiddenError } from '../../shared/platform/errors.js';
import { NoteIdSchema, NoteInputSchema, NoteSchema, NoteSummarySchema } from '../notes.js';
import { defineTool } from './tool.js';

const PageInput = {
  limit: z.number().int().min(1).max(50).default(20).describe('How many notes to return'),
  cursor: z.string().max(512).optional().describe('nextCursor from a previous page'),
};
const PageOutput = z.object({
  notes: z.array(NoteSummarySchema),
  nextCursor: z.string().optional(),
});
const IdInput = z.object({ id: NoteIdSchema.describe('The note id') });

export const notesCreate = defineTool({
  name: 'notes_create',
  title: 'Create a note',
  description: "Saves a note in your organisation's notebook.",
  inputSchema: NoteInputSchema,
  outputSchema: NoteSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: (input, deps) => deps.notes.create(input, deps.context.sub),
});

export const notesGet = defineTool({
  name: 'notes_get',
  title: 'Get a note',
  description: 'Reads one note by id.',
  inputSchema: IdInput,
  outputSchema: NoteSchema,
  annotations: { readOnlyHint: true },
  run: ({ id }, deps) => deps.notes.get(id),
});

export const notesList = defineTool({
  name: 'notes_list',
  title: 'List notes',
  description: 'Lists notes, newest first, a page at a time.',
  inputSchema: z.object(PageInput),
  outputSchema: PageOutput,
  annotations: { readOnlyHint: true },
  run: async ({ limit, cursor }, deps) => {
    const page = await deps.notes.list({ limit, cursor });
    return { notes: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  },
});

export const notesSearch = defineTool({
  name: 'notes_search',
  title: 'Search notes',
  description: 'Finds notes whose title, body or tags contain the text (case-insensitive).',
  inputSchema: z.object({ query: z.string().trim().min(1).max(200), ...PageInput }),
  outputSchema: PageOutput,
  annotations: { readOnlyHint: true },
  run: async ({ query, limit, cursor }, deps) => {
    const page = await deps.notes.search(query, { limit, cursor });
    return { notes: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  },
});

export const notesDelete = defineTool({
  name: 'notes_delete',
  requiredRole: 'admin',
  title: 'Delete a note',
  description: 'Deletes a note for good. Organisation admins only.',
  inputSchema: IdInput,
  outputSchema: z.object({ deleted: z.literal(true), id: NoteIdSchema }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  run: async ({ id }, deps) => {
    // Registration already hides this tool from members; this guards the call itself.
    if (deps.context.role !== 'admin') {
      throw new ForbiddenError('Only organisation admins may delete notes.');
    }
    await deps.notes.delete(id);
    return { deleted: true as const, id };
  },
});
