import * as z from 'zod';
import { parseUsagePlanIds } from '../shared/edge/usage-plans.js';
import { RECLAIM_DEFAULTS } from '../shared/lifecycle/reclaim-settings.js';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/reclaimer reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const RECLAIMER_CONFIG = {
  REGISTRY_TABLE_NAME: tableName(),
  USAGE_TABLE_NAME: tableName(),
  /** Offboarding deletes the tenant's partition of the data table. */
  DATA_TABLE_NAME: tableName(),
  USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'not a user pool id'),
  USAGE_PLAN_IDS: z.string().transform(parseUsagePlanIds),
  IDLE_DAYS: z.coerce.number().int().min(1).max(3650).default(RECLAIM_DEFAULTS.idleDays),
  NOTICE_DAYS: z.coerce.number().int().min(1).max(365).default(RECLAIM_DEFAULTS.noticeDays),
  /** The verified SES identity notices come from; without it the reclaimer reclaims nothing. */
  NOTICE_SENDER: z.preprocess((value) => (value === '' ? undefined : value), z.email().optional()),
  MAX_TENANTS_PER_RUN: z.coerce
    .number()
    .int()
    .positive()
    .default(RECLAIM_DEFAULTS.maxTenantsPerRun),
  /** The MCP endpoint, named in the notice. */
  MCP_URL: z.url({ protocol: /^https?$/ }).optional(),
} satisfies z.ZodRawShape;
