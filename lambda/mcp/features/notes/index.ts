import * as z from 'zod';
import { definePrompt, defineResource, defineTool, type Feature } from '../feature.js';
import {
  matchesQuery,
  NOTES,
  NoteIdSchema,
  NoteInputSchema,
  NoteSchema,
  NoteSummarySchema,
  SEARCH_READ_BUDGET,
  summaryOf,
} from './notes.js';

const PageInput = {
  limit: z.number().int().min(1).max(50).default(20).describe('How many notes to return'),
  cursor: z.string().max(512).optional().describe('nextCursor from a previous page'),
};
const PageOutput = z.object({
  notes: z.array(NoteSummarySchema),
  nextCursor: z.string().optional(),
});
const IdInput = z.object({ id: NoteIdSchema });

export const notes: Feature = {
  name: 'notes',
  collections: [NOTES],
  tools: [
    defineTool({
      name: 'notes_create',
      title: 'Create a note',
      description: "Saves a note in your organisation's notebook.",
      inputSchema: NoteInputSchema,
      outputSchema: NoteSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
      run: (input, scope) => {
        const collection = scope.collection(NOTES);
        return collection.create({
          id: collection.newId(),
          ...input,
          createdBy: scope.context.sub,
          createdAt: new Date().toISOString(),
        });
      },
    }),
    defineTool({
      name: 'notes_get',
      title: 'Get a note',
      description: 'Reads one note by id.',
      inputSchema: IdInput,
      outputSchema: NoteSchema,
      annotations: { readOnlyHint: true },
      run: ({ id }, scope) => scope.collection(NOTES).get(id),
    }),
    defineTool({
      name: 'notes_list',
      title: 'List notes',
      description: 'Lists notes, newest first, a page at a time.',
      inputSchema: z.object(PageInput),
      outputSchema: PageOutput,
      annotations: { readOnlyHint: true },
      run: async ({ limit, cursor }, scope) => {
        const page = await scope.collection(NOTES).list({ limit, cursor });
        return { notes: page.items.map(summaryOf), ...next(page) };
      },
    }),
    defineTool({
      name: 'notes_search',
      minTier: 'standard',
      title: 'Search notes',
      description: 'Finds notes whose title, body or tags contain the text (case-insensitive).',
      inputSchema: z.object({ query: z.string().trim().min(1).max(200), ...PageInput }),
      outputSchema: PageOutput,
      annotations: { readOnlyHint: true },
      run: async ({ query, limit, cursor }, scope) => {
        const page = await scope.collection(NOTES).find((note) => matchesQuery(note, query), {
          limit,
          cursor,
          readBudget: SEARCH_READ_BUDGET,
        });
        return { notes: page.items.map(summaryOf), ...next(page) };
      },
    }),
    defineTool({
      name: 'notes_delete',
      requiredRole: 'admin',
      title: 'Delete a note',
      description: 'Deletes a note for good. Organisation admins only.',
      inputSchema: IdInput,
      outputSchema: z.object({ deleted: z.literal(true), id: NoteIdSchema }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
      run: async ({ id }, scope) => {
        await scope.collection(NOTES).delete(id);
        return { deleted: true as const, id };
      },
    }),
  ],
  resources: [
    defineResource({
      name: 'note',
      uriTemplate: 'note://{id}',
      title: 'Note',
      description: 'A note of your organisation',
      mimeType: 'text/markdown',
      list: async (scope) =>
        (await scope.collection(NOTES).list({ limit: 50 })).items.map((note) => ({
          uri: `note://${note.id}`,
          name: note.title,
          mimeType: 'text/markdown',
        })),
      read: async (uri, variables, scope) => {
        const note = await scope.collection(NOTES).get(String(variables.id ?? ''));
        return {
          contents: [
            { uri: uri.href, mimeType: 'text/markdown', text: `# ${note.title}\n\n${note.body}` },
          ],
        };
      },
    }),
  ],
  prompts: [
    definePrompt({
      name: 'draft_note',
      title: 'Draft a note',
      description: 'Asks the assistant to draft a note on a topic and save it.',
      argsSchema: z.object({ topic: z.string().min(1).max(200) }),
      messages: ({ topic }) => [
        {
          role: 'user',
          content: {
            type: 'text',
            text: `Draft a short, well-structured note about: ${topic}. Show it to me, and when I agree, save it with the notes_create tool.`,
          },
        },
      ],
    }),
  ],
};

function next(page: { nextCursor?: string }) {
  return page.nextCursor ? { nextCursor: page.nextCursor } : {};
}
