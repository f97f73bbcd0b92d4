import * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/post-confirmation reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const POST_CONFIRMATION_CONFIG = {
  REGISTRY_TABLE_NAME: tableName(),
  PROVISIONING_QUEUE_URL: z.url({ protocol: /^https?$/ }),
  PSEUDONYM_KEY_SECRET_ID: z.string().min(1),
} satisfies z.ZodRawShape;
