import type * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/pre-sign-up reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const PRE_SIGN_UP_CONFIG = { REGISTRY_TABLE_NAME: tableName() } satisfies z.ZodRawShape;
