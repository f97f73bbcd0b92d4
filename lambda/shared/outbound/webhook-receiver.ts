import { createHash } from 'node:crypto';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { FetchJwksFetcher } from '../edge/access-token.js';
import { WEBHOOK_TOKEN_TYP } from './webhook-credential.js';
import { verifyWebhook, type WebhookSignatureHeaders } from './webhook-signature.js';

/**
 * The receiving end of a webhook delivery, for a tenant's receiver (and the tests): the
 * successor of `verifyWebhook`, which checks the HMAC only.
 */

export interface DeliveryVerifierOptions {
  /** The tenant's webhook signing secret (the HMAC). */
  readonly secret: string;
  /** The platform's issuer (the API's base URL); its JWKS is at `<issuer>/.well-known/jwks.json`. */
  readonly issuer: string;
  /** This receiver's own origin, e.g. `https://hooks.example.com` (a path is ignored). */
  readonly audience: string;
  /**
   * The tenant whose deliveries this receiver takes: several receivers on one host (one
   * origin) tell their tenants' credentials apart by it, as by the HMAC secret.
   */
  readonly tenantId: string;
  /** Seconds of clock skew allowed on the HMAC timestamp. @default 300 */
  readonly toleranceSeconds?: number;
}

export interface VerifiedDelivery {
  readonly tenantId: string;
  /** The pseudonymous user who acted (or the agent's own subject). */
  readonly actor: string;
  readonly agentId?: string;
}

/**
 * What a receiver runs on each delivery: both the tenant's HMAC signature (and its timestamp)
 * and the platform's JWT (signature via the JWKS, issuer, this receiver as audience, expiry,
 * the body's digest) must hold. Returns who sent it, or undefined for a delivery to refuse.
 * Keep one verifier per receiver: it caches the JWKS.
 */
export function createDeliveryVerifier(options: DeliveryVerifierOptions) {
  const verifier = JwtRsaVerifier.create(
    {
      issuer: options.issuer,
      audience: new URL(options.audience).origin,
      jwksUri: `${options.issuer}/.well-known/jwks.json`,
      customJwtCheck: ({ header }) => {
        if (header.alg !== 'RS256' || header.typ !== WEBHOOK_TOKEN_TYP) {
          throw new Error('not a webhook credential');
        }
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: new FetchJwksFetcher() }) },
  );
  return async (
    headers: WebhookSignatureHeaders & { authorization?: string },
    body: string,
  ): Promise<VerifiedDelivery | undefined> => {
    const signed = verifyWebhook(options.secret, headers, body, {
      ...(options.toleranceSeconds !== undefined
        ? { toleranceSeconds: options.toleranceSeconds }
        : {}),
    });
    const token = /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
    if (!signed || !token) return undefined;
    try {
      const claims = await verifier.verify(token);
      const digest = createHash('sha256').update(body).digest('base64url');
      if (claims.body_sha256 !== digest) return undefined;
      if (typeof claims.tenant_id !== 'string' || typeof claims.sub !== 'string') return undefined;
      if (claims.tenant_id !== options.tenantId) return undefined;
      return {
        tenantId: claims.tenant_id,
        actor: claims.sub,
        ...(typeof claims.agent_id === 'string' ? { agentId: claims.agent_id } : {}),
      };
    } catch {
      return undefined;
    }
  };
}
