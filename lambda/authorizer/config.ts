import * as z from 'zod';
import { parsePoolApiKeys } from '../shared/edge/usage-plans.js';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/authorizer reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const AUTHORIZER_CONFIG = {
  JWT_ISSUER: z.url({ protocol: /^https?$/ }),
  JWKS_URI: z.url({ protocol: /^https?$/ }).optional(),
  CLIENT_IDS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string()).min(1)),
  REQUIRED_SCOPE: z.string().min(1),
  /** The API's public base URL: this server's resource URL derives from it. */
  API_BASE_URL: z.url({ protocol: /^https?$/ }),
  REGISTRY_TABLE_NAME: tableName(),
  PSEUDONYM_KEY_SECRET_ID: z.string().min(1),
  /** Each pooled tier's shared API key value (usage-plans.ts). */
  POOL_API_KEYS: z.string().transform(parsePoolApiKeys),
  /** The KMS key that signs the platform's tokens: its public half verifies them. */
  TOKEN_SIGNING_KEY_ARN: z.string().min(1),
} satisfies z.ZodRawShape;
