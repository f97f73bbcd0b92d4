import * as z from 'zod';

/**
 * What lambda/console-publisher reads from its environment, checked at load (readConfig). The
 * CDK construct that deploys it (lib/constructs/console-site.ts) sets both.
 */
export const CONSOLE_PUBLISHER_CONFIG = {
  CONSOLE_BUCKET_NAME: z.string().min(3),
  CONSOLE_DISTRIBUTION_ID: z.string().min(1),
} satisfies z.ZodRawShape;
