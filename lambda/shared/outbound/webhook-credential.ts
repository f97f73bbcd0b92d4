import { createHash, randomUUID } from 'node:crypto';
import type { JwtSigner } from '../edge/jwt-signer.js';
import type { TenantContext } from '../tenancy/context.js';

/**
 * The credential a webhook delivery carries for its destination, never the caller's token:
 * a JWT the platform signs (RS256, its KMS key) whose audience is the receiver's origin, so it
 * is worth nothing anywhere else (the MCP API refuses it too: wrong audience, wrong type, and a
 * key the authorizer does not trust). It
 * names the tenant and who acted (the pseudonymous user, and the agent if one did) and binds
 * the body by its SHA-256. Receivers verify it with the platform's published JWKS
 * (`<issuer>/.well-known/jwks.json`), next to the tenant's HMAC signature (webhook-receiver.ts).
 */

export const WEBHOOK_TOKEN_TTL_SECONDS = 300;
/** Its own type (RFC 8725, 3.11): never mistaken for an access token (`at+jwt`) or an ID token. */
export const WEBHOOK_TOKEN_TYP = 'webhook+jwt';

/** Signs a delivery's credential for `destination`, for the caller of `context`. */
export function webhookCredential(
  signer: JwtSigner,
  issuer: string,
  destination: URL,
  context: Pick<TenantContext, 'tenantId' | 'user' | 'agentId'>,
  body: string,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signer.sign(
    {
      iss: issuer,
      aud: destination.origin,
      sub: context.user,
      tenant_id: context.tenantId,
      ...(context.agentId ? { agent_id: context.agentId } : {}),
      body_sha256: createHash('sha256').update(body).digest('base64url'),
      iat: now,
      exp: now + WEBHOOK_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
    },
    WEBHOOK_TOKEN_TYP,
  );
}
