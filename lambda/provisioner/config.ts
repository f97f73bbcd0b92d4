import * as z from 'zod';
import { ACCESS_DRAIN_SECONDS } from '../shared/edge/api-contract.js';
import { parseUsagePlanIds } from '../shared/edge/usage-plans.js';
import { tableName } from '../shared/platform/config.js';
import { KmsKeyArnSchema } from '../shared/tenancy/tenant.js';

/**
 * What lambda/provisioner reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const PROVISIONER_CONFIG = {
  REGISTRY_TABLE_NAME: tableName(),
  USAGE_PLAN_IDS: z.string().transform(parseUsagePlanIds),
  DATA_ACCESS_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'not a role ARN'),
  PROVISIONER_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'not a role ARN'),
  PROVISIONING_QUEUE_URL: z.url({ protocol: /^https?$/ }),
  /** The pooled KMS key, which wraps pooled tenants' data keys (in their own sessions). */
  POOLED_KEY_ARN: KmsKeyArnSchema,
  /** The tenant data table, whose sealed fields a tier change re-seals (in the tenant's session). */
  DATA_TABLE_NAME: tableName(),
  /**
   * How long a tier change waits after a step before relying on it (tier-migration.ts).
   * Shorter only where no request can outlive it (the local stack's tests).
   */
  TIER_CHANGE_DRAIN_SECONDS: z.coerce.number().int().min(0).default(ACCESS_DRAIN_SECONDS),
  /**
   * First retry delay, doubled on each further receive (at most 15 minutes): the fifth try
   * comes after 7.5 minutes, beyond the few minutes AWS may need to make a new resource
   * visible, and the eighth, the last, after about 45.
   */
  RETRY_BASE_SECONDS: z.coerce.number().int().min(0).default(30),
} satisfies z.ZodRawShape;
