import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { z } from 'zod';
import { type AccessTokenVerifier, isTokenRejection } from '../shared/access-token.js';
import { errorFields } from '../shared/observability.js';
import type { TenantRegistry } from '../shared/registry.js';
import { RoleSchema, TENANT_CLAIMS, TenantIdSchema } from '../shared/tenant.js';
import type { TenantContext } from '../shared/tenant-context.js';

/** API Gateway answers 401 (and our WWW-Authenticate challenge) for exactly this error. */
export const UNAUTHORIZED = 'Unauthorized';

const TenantClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  client_id: z.string().min(1).max(128),
  [TENANT_CLAIMS.tenantId]: TenantIdSchema,
  [TENANT_CLAIMS.role]: RoleSchema,
});

export interface AuthorizeDeps {
  readonly verifier: AccessTokenVerifier;
  readonly registry: TenantRegistry;
  readonly logger: Logger;
}

/**
 * The Lambda (TOKEN) authorizer of `/mcp`: verifies the bearer access token, takes the tenant
 * from its verified claims only, and checks the tenant in the registry. Allows the request
 * with the tenant context (tenant id, current tier, role, user, client), denies it (403) for a
 * tenant that is unknown or not active, and refuses it (401) for anything wrong with the
 * token. No header other than `Authorization` is read.
 */
export async function authorize(
  event: APIGatewayTokenAuthorizerEvent,
  { verifier, registry, logger }: AuthorizeDeps,
): Promise<APIGatewayAuthorizerResult> {
  const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(event.authorizationToken ?? '')?.[1];
  if (!token) {
    logger.info('Refused: no bearer token');
    throw new Error(UNAUTHORIZED);
  }

  let claims: z.infer<typeof TenantClaimsSchema>;
  try {
    const payload = await verifier.verify(token);
    const parsed = TenantClaimsSchema.safeParse(payload);
    if (!parsed.success) {
      logger.warn('Refused: verified token without valid tenant claims', {
        claims: parsed.error.issues.map((issue) => issue.path.join('.')),
      });
      throw new Error(UNAUTHORIZED);
    }
    claims = parsed.data;
  } catch (error) {
    if (error instanceof Error && error.message === UNAUTHORIZED) throw error;
    if (isTokenRejection(error)) {
      logger.info('Refused: token failed verification', { reason: (error as Error).name });
      throw new Error(UNAUTHORIZED);
    }
    logger.error('Could not verify the token', errorFields(error));
    throw new Error('Authorizer unavailable');
  }

  const tenantId = claims[TENANT_CLAIMS.tenantId];
  logger.appendKeys({ tenantId, userSub: claims.sub, clientId: claims.client_id });
  const tenant = await registry.getTenant(tenantId);
  if (tenant?.status !== 'ACTIVE') {
    logger.warn('Denied: tenant is not active', { tenantStatus: tenant?.status ?? 'MISSING' });
    return policy(claims.sub, 'Deny', event.methodArn);
  }

  const context: TenantContext = {
    tenantId,
    // The registry's tier, not the token's: a tier change applies without a new token.
    tier: tenant.tier,
    role: claims[TENANT_CLAIMS.role],
    sub: claims.sub,
    clientId: claims.client_id,
  };
  logger.info('Allowed', { tier: context.tier, role: context.role });
  return { ...policy(claims.sub, 'Allow', event.methodArn), context };
}

/**
 * A policy for every method on `/mcp` of this stage: the result is cached per token, and the
 * same token may next call another method of the same resource.
 */
function policy(principalId: string, effect: 'Allow' | 'Deny', methodArn: string) {
  // arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<method>/<resource path>
  const [apiArn, stage] = methodArn.split('/');
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: effect, Resource: `${apiArn}/${stage}/*/mcp` },
      ],
    },
  };
}
