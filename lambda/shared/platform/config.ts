import * as z from 'zod';
import { ConfigError } from './errors.js';

/**
 * Reads required configuration from the environment once, at module load, and fails fast
 * with the name of every missing or malformed variable (never its value).
 *
 * @example
 * const config = readConfig({ REGISTRY_TABLE_NAME: z.string().min(1) });
 */
export function readConfig<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return env[name] === undefined || env[name] === ''
      ? `${name} is not set`
      : `${name} is malformed (${issue.message})`;
  });
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}

/** A DynamoDB table name as CloudFormation generates it. */
export const tableName = () =>
  z
    .string()
    .min(3)
    .max(255)
    .regex(/^[a-zA-Z0-9_.-]+$/, 'not a DynamoDB table name');
