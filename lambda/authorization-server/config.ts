import * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/authorization-server reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const AUTHORIZATION_SERVER_CONFIG = {
  API_BASE_URL: z.url({ protocol: /^https?$/ }),
  OAUTH_TABLE_NAME: tableName(),
  /** The Managed Login domain. */
  COGNITO_DOMAIN_URL: z.url({ protocol: /^https?$/ }),
  /** The façade's own app client at Cognito. */
  COGNITO_CLIENT_ID: z.string().min(1),
  /** The user pool's issuer: people's access tokens, the subjects of token exchanges. */
  JWT_ISSUER: z.url({ protocol: /^https?$/ }),
  /** Where the token signing keys are: the user pool's JWKS. */
  JWKS_URI: z.url({ protocol: /^https?$/ }),
  /** Agents (`AGENTS#`), memberships and tenants, read by key. */
  REGISTRY_TABLE_NAME: tableName(),
  /** The KMS key (RSA_2048, SIGN_VERIFY) that signs agents' and delegations' tokens. */
  TOKEN_SIGNING_KEY_ARN: z.string().min(1),
  /** The key of webhook credentials (the MCP function signs): published in the JWKS only. */
  WEBHOOK_SIGNING_KEY_ARN: z.string().min(1),
  REQUIRED_SCOPE: z.string().min(1),
  /** The operator's clients: `[{ "clientId", "redirectUris": [...], "clientName" }]`. */
  PRE_REGISTERED_CLIENTS: z
    .string()
    .transform((value) => JSON.parse(value) as unknown)
    .pipe(
      z.array(
        z.object({
          clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
          redirectUris: z.array(z.string()).min(1),
          clientName: z.string().optional(),
        }),
      ),
    ),
  /** Development only: client metadata documents may be served from loopback. */
  ALLOW_LOOPBACK_CLIENT_METADATA: z.enum(['true', 'false']).default('false'),
} satisfies z.ZodRawShape;
