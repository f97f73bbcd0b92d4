import * as z from 'zod';
import { defineTool, type Feature } from '../feature.js';
import { TASKS, TaskSchema } from './tasks.js';

const TaskSummarySchema = TaskSchema.omit({ details: true });

/** A to-do list per organisation: the example feature of docs/EXTENDING.md. */
export const tasks: Feature = {
  name: 'tasks',
  collections: [TASKS],
  tools: [
    defineTool({
      name: 'tasks_create',
      title: 'Create a task',
      description: "Adds a task to your organisation's to-do list.",
      inputSchema: TaskSchema.pick({ title: true }).extend({
        details: TaskSchema.shape.details.default(''),
      }),
      outputSchema: TaskSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
      run: ({ title, details }, scope) => {
        const tasks = scope.collection(TASKS);
        return tasks.create({
          id: tasks.newId(),
          title,
          details,
          done: false,
          createdBy: scope.context.sub,
          createdAt: new Date().toISOString(),
        });
      },
    }),
    defineTool({
      name: 'tasks_list',
      title: 'List tasks',
      description: 'Lists tasks, newest first, a page at a time (without their details).',
      inputSchema: z.object({
        limit: z.number().int().min(1).max(50).default(20),
        cursor: z.string().max(512).optional().describe('nextCursor from a previous page'),
      }),
      outputSchema: z.object({
        tasks: z.array(TaskSummarySchema),
        nextCursor: z.string().optional(),
      }),
      annotations: { readOnlyHint: true },
      run: async (page, scope) => {
        const { items, nextCursor } = await scope.collection(TASKS).list(page);
        return { tasks: items, ...(nextCursor ? { nextCursor } : {}) };
      },
    }),
    defineTool({
      name: 'tasks_complete',
      title: 'Complete a task',
      description: 'Marks a task done.',
      inputSchema: TaskSchema.pick({ id: true }),
      outputSchema: TaskSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
      run: async ({ id }, scope) => {
        const tasks = scope.collection(TASKS);
        return tasks.replace({ ...(await tasks.get(id)), done: true });
      },
    }),
  ],
};
