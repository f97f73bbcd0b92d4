import * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/pre-token-generation reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const PRE_TOKEN_GENERATION_CONFIG = {
  REGISTRY_TABLE_NAME: tableName(),
  PSEUDONYM_KEY_SECRET_ID: z.string().min(1),
  PROVISIONING_QUEUE_URL: z.url({ protocol: /^https?$/ }),
} satisfies z.ZodRawShape;
