import type * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/metering reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const METERING_CONFIG = { USAGE_TABLE_NAME: tableName() } satisfies z.ZodRawShape;
