import * as z from 'zod';
import { isOrigin } from '../shared/edge/console-cors.js';
import { tableName } from '../shared/platform/config.js';
import { KmsKeyArnSchema } from '../shared/tenancy/tenant.js';

/**
 * What lambda/mcp reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const MCP_CONFIG = {
  DATA_TABLE_NAME: tableName(),
  REGISTRY_TABLE_NAME: tableName(),
  USAGE_TABLE_NAME: tableName(),
  /** The pseudonym key (Secrets Manager): audit records and member lists name members by it. */
  PSEUDONYM_KEY_SECRET_ID: z.string().min(1),
  /** The audit trail: read through the tenant-scoped session only (`audit_report`). */
  AUDIT_TABLE_NAME: tableName(),
  USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'not a user pool id'),
  DATA_ACCESS_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'not a role ARN'),
  /** The pooled KMS key: it wraps the data keys of pooled tiers' tenants (crypto.ts). */
  POOLED_KEY_ARN: KmsKeyArnSchema,
  API_BASE_URL: z.url({ protocol: /^https?$/ }),
  /** Signs each webhook delivery's credential (RS256; the façade publishes the JWKS). */
  WEBHOOK_SIGNING_KEY_ARN: z.string().min(1),
  ALLOWED_ORIGIN_HOSTNAMES: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
  /** The tenant console's origin, the one browser origin that may read the answers. */
  CONSOLE_ORIGIN: z.string().refine(isOrigin, 'not an origin (scheme://host[:port])'),
  MAX_REQUEST_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** Development only: webhooks may use plain http and loopback addresses. */
  ALLOW_LOOPBACK_WEBHOOKS: z.enum(['true', 'false']).default('false'),
} satisfies z.ZodRawShape;
