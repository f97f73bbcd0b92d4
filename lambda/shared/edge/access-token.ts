import { JwtRsaVerifier } from 'aws-jwt-verify';
import { FetchError, JwtBaseError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

export interface AccessTokenVerifierOptions {
  /** The token issuer: `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  readonly issuer: string;
  /** @default `${issuer}/.well-known/jwks.json` (where Cognito serves its keys) */
  readonly jwksUri?: string;
  /** App clients whose tokens are accepted (Cognito access tokens carry `client_id`). */
  readonly clientIds: readonly string[];
  /** The scope that marks a token meant for this API. */
  readonly requiredScope: string;
  /**
   * This server's resource URL (RFC 8707). Cognito access tokens carry `aud` only when issued
   * with resource binding; one that does must name this resource, not another server's.
   */
  readonly resource: string;
}

/**
 * JWKS fetcher on the platform `fetch`: works for the https issuer of Cognito and for a
 * plain-http issuer on 127.0.0.1 alike, so local runs verify tokens with this same code.
 */
export class FetchJwksFetcher implements Fetcher {
  constructor(private readonly timeoutMs = 3_000) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    const response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new FetchError(uri, `HTTP ${response.status}`);
    return response.arrayBuffer();
  }
}

/**
 * Verifies Cognito **access** tokens: signature against the issuer's JWKS (RS256 only, so
 * `alg: none` and HMAC tricks fail), issuer, expiry, `token_use: access` (an ID token is
 * refused), the client id allowlist (the authorization façade's client only: tokens issued
 * through it are for this server), the required scope, and an audience, if the token has one,
 * that names this server's resource.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions) {
  const clientIds = new Set(options.clientIds);
  return JwtRsaVerifier.create(
    {
      issuer: options.issuer,
      jwksUri: options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`,
      audience: null,
      scope: options.requiredScope,
      customJwtCheck: ({ header, payload }) => {
        if (header.alg !== 'RS256') throw new InvalidAccessTokenError('alg is not RS256');
        if (payload.token_use !== 'access')
          throw new InvalidAccessTokenError('not an access token');
        if (typeof payload.client_id !== 'string' || !clientIds.has(payload.client_id)) {
          throw new InvalidAccessTokenError('client_id not allowed');
        }
        if (payload.aud !== undefined && ![payload.aud].flat().includes(options.resource)) {
          throw new InvalidAccessTokenError('audience is another resource');
        }
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: new FetchJwksFetcher() }) },
  );
}

export type AccessTokenVerifier = ReturnType<typeof createAccessTokenVerifier>;
export type { JwtPayload };

export class InvalidAccessTokenError extends Error {
  override name = 'InvalidAccessTokenError';
}

/**
 * Whether a verification failure means "this token is not acceptable" (answer 401) rather
 * than "we could not check it" (the issuer's keys are unreachable: answer 5xx, not a
 * misleading invitation to sign in again).
 */
export function isTokenRejection(error: unknown): boolean {
  if (error instanceof InvalidAccessTokenError) return true;
  return error instanceof JwtBaseError && !(error instanceof FetchError);
}
