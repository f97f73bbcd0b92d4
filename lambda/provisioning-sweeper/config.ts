import * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/provisioning-sweeper reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const PROVISIONING_SWEEPER_CONFIG = {
  REGISTRY_TABLE_NAME: tableName(),
  PROVISIONING_QUEUE_URL: z.url({ protocol: /^https?$/ }),
  STALE_AFTER_MINUTES: z.coerce.number().int().positive().default(15),
} satisfies z.ZodRawShape;
