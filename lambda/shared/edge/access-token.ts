import { JwtRsaVerifier } from 'aws-jwt-verify';
import { FetchError, JwtBaseError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { ACCESS_TOKEN_TYP } from './agent-token.js';

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
  /**
   * The platform's own tokens (agents and delegations, lambda/shared/edge/agent-token.ts),
   * signed by the authorization façade with a KMS key: its issuer and where its public key
   * comes from. Without it only Cognito's tokens are accepted.
   */
  readonly platform?: { readonly issuer: string; readonly jwks: () => Promise<unknown> };
}

/**
 * JWKS fetcher on the platform `fetch`: works for the https issuer of Cognito and for a
 * plain-http issuer on 127.0.0.1 alike, so local runs verify tokens with this same code.
 */
export class FetchJwksFetcher implements Fetcher {
  constructor(
    private readonly timeoutMs = 3_000,
    /** Key sets read elsewhere than over HTTP, by URI (the platform's, from KMS). */
    private readonly local: Record<string, () => Promise<unknown>> = {},
  ) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    const local = this.local[uri];
    if (local) {
      try {
        return new TextEncoder().encode(JSON.stringify(await local())).buffer as ArrayBuffer;
      } catch (error) {
        throw new FetchError(uri, (error as Error).name);
      }
    }
    const response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new FetchError(uri, `HTTP ${response.status}`);
    return response.arrayBuffer();
  }
}

/**
 * Verifies Cognito **access** tokens: signature against the issuer's JWKS (RS256 only, so
 * `alg: none` and HMAC tricks fail), issuer, expiry, `token_use: access` (an ID token is
 * refused), the client id allowlist (the authorization façade's client only: tokens issued
 * through it are for this server), the required scope, an audience, if the token has one,
 * that names this server's resource, and no `act` claim. With `platform`, also the platform's
 * own access tokens (agents, delegations): that issuer's key only, `typ: at+jwt`, and this
 * server's resource as the audience; their claims are checked by the caller (agent-token.ts).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions) {
  const clientIds = new Set(options.clientIds);
  const cognito = {
    issuer: options.issuer,
    jwksUri: options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`,
    audience: null,
    scope: options.requiredScope,
    customJwtCheck: ({ header, payload }: { header: JwtHeader; payload: JwtPayload }) => {
      if (header.alg !== 'RS256') throw new InvalidAccessTokenError('alg is not RS256');
      if (payload.token_use !== 'access') throw new InvalidAccessTokenError('not an access token');
      if (typeof payload.client_id !== 'string' || !clientIds.has(payload.client_id)) {
        throw new InvalidAccessTokenError('client_id not allowed');
      }
      if (payload.aud !== undefined && ![payload.aud].flat().includes(options.resource)) {
        throw new InvalidAccessTokenError('audience is another resource');
      }
      // Only the platform names an actor; a person's token that claims one is forged or
      // misconfigured (a pre-token trigger must never add it).
      if (payload.act !== undefined) throw new InvalidAccessTokenError('act in a Cognito token');
    },
  };
  if (!options.platform) {
    return JwtRsaVerifier.create([cognito], {
      jwksCache: new SimpleJwksCache({ fetcher: new FetchJwksFetcher() }),
    });
  }
  const platform = platformIssuer({ ...options.platform, resource: options.resource });
  return JwtRsaVerifier.create([cognito, platform.config], {
    jwksCache: new SimpleJwksCache({
      fetcher: new FetchJwksFetcher(3_000, { [platform.config.jwksUri]: platform.jwks }),
    }),
  });
}

/**
 * How the platform's own access tokens are verified: that issuer's key only (its public half
 * from `jwks`, never fetched over HTTP), `typ: at+jwt`, and this server's resource as the
 * audience (RFC 9068), so a webhook credential, whose audience is a receiver's origin and
 * whose key is another, is never accepted.
 */
function platformIssuer(options: {
  issuer: string;
  resource: string;
  jwks: () => Promise<unknown>;
}) {
  return {
    config: {
      issuer: options.issuer,
      jwksUri: `${options.issuer}/.well-known/jwks.json`,
      audience: options.resource,
      customJwtCheck: ({ header }: { header: JwtHeader; payload: JwtPayload }) => {
        if (header.alg !== 'RS256') throw new InvalidAccessTokenError('alg is not RS256');
        if (header.typ !== ACCESS_TOKEN_TYP) throw new InvalidAccessTokenError('not an at+jwt');
      },
    },
    jwks: options.jwks,
  };
}

/** Verifies the platform's own access tokens only (the façade, for an RFC 8693 actor token). */
export function createPlatformTokenVerifier(options: {
  issuer: string;
  resource: string;
  jwks: () => Promise<unknown>;
}) {
  const platform = platformIssuer(options);
  return JwtRsaVerifier.create(platform.config, {
    jwksCache: new SimpleJwksCache({
      fetcher: new FetchJwksFetcher(3_000, { [platform.config.jwksUri]: platform.jwks }),
    }),
  });
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
