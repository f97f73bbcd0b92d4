import * as z from 'zod';
import { defineCollection, ItemIdSchema } from '../../../shared/tenancy/collection.js';

/**
 * Tasks: the example of docs/EXTENDING.md, built in the tree so the guide cannot rot. A
 * collection of the tenant's own records; `details` is sealed under the tenant's key.
 */
export const TaskSchema = z.object({
  id: ItemIdSchema.describe('The task id'),
  title: z.string().trim().min(1).max(200),
  details: z.string().max(5_000),
  done: z.boolean(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});

export const TASKS = defineCollection({
  name: 'TASK',
  schema: TaskSchema,
  sensitive: ['details'],
  notFound: 'Task not found.',
});
