import * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/pre-sign-up reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const PRE_SIGN_UP_CONFIG = {
  REGISTRY_TABLE_NAME: tableName(),
  /** Where the day's self sign-ups are counted (the platform's counters, with TTL). */
  USAGE_TABLE_NAME: tableName(),
  /** Self sign-ups per UTC day (lib/config.ts: `-c signUpDailyCap`). */
  SIGN_UP_DAILY_CAP: z.coerce.number().int().positive(),
} satisfies z.ZodRawShape;
