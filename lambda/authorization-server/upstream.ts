import * as z from 'zod';
import { OAuthError } from './oauth-error.js';

/**
 * The refusal of a grant by the pre-token trigger (a suspended tenant, a membership being
 * changed): the token itself is fine, and works again once the trigger allows it.
 */
export const REFUSED_BY_TRIGGER = 'Cognito refused the grant: its pre-token trigger refused';
export interface CognitoUpstreamOptions {
  /** The Managed Login domain: `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly domainUrl: string;
  /** The façade's own app client (public, PKCE). */
  readonly clientId: string;
  /** The façade's callback, the one redirect URI the app client has. */
  readonly callbackUrl: string;
  /** What the façade asks Cognito for: OpenID (the code flow needs it) and the MCP scope. */
  readonly scope: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().int().positive(),
  token_type: z.string(),
});
export type UpstreamTokens = z.infer<typeof TokenResponse>;

/**
 * Cognito's OAuth endpoints as the façade uses them: the authorization redirect (the façade's
 * client, callback and PKCE, never the MCP client's), the code exchange, refresh and
 * revocation. Cognito gets no `resource` parameter: it would refuse any value that is not one
 * of the pool's resource server identifiers.
 */
export class CognitoUpstream {
  constructor(private readonly options: CognitoUpstreamOptions) {}

  authorizeUrl(state: string, codeChallenge: string): string {
    const url = new URL('/oauth2/authorize', this.options.domainUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.options.clientId,
      redirect_uri: this.options.callbackUrl,
      scope: this.options.scope,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  redeem(code: string, verifier: string): Promise<UpstreamTokens> {
    return this.token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.options.callbackUrl,
      code_verifier: verifier,
    });
  }

  refresh(refreshToken: string): Promise<UpstreamTokens> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /**
   * Revokes a refresh token and the access tokens it produced, as far as Cognito can (access
   * tokens stay valid where they are verified offline). Whether it did is logged by the caller.
   */
  async revoke(refreshToken: string): Promise<boolean> {
    const response = await this.post('/oauth2/revoke', { token: refreshToken }).catch(
      () => undefined,
    );
    return response?.ok === true;
  }

  private async token(fields: Record<string, string>): Promise<UpstreamTokens> {
    const response = await this.post('/oauth2/token', fields);
    const body = (await response.json().catch(() => undefined)) as unknown;
    const reason = z
      .object({ error: z.string(), error_description: z.string().optional() })
      .safeParse(body);
    if (reason.success && reason.data.error === 'invalid_grant') {
      // Cognito refused the grant itself: an expired, revoked or rotated-away token, or a
      // sign-in its trigger refused. The client starts over.
      const byTrigger = /PreTokenGeneration failed/.test(reason.data.error_description ?? '');
      throw new OAuthError(
        'invalid_grant',
        'The grant is invalid, expired or revoked.',
        400,
        byTrigger ? REFUSED_BY_TRIGGER : 'Cognito refused the grant',
      );
    }
    // Anything else (invalid_client, invalid_request, a 5xx) is the façade's or Cognito's
    // problem, not the client's grant: nothing is given up, the client may retry.
    const tokens = TokenResponse.safeParse(body);
    if (!response.ok || !tokens.success) {
      throw new OAuthError(
        'server_error',
        'The authorization server is temporarily unavailable.',
        503,
        `Cognito token endpoint answered ${response.status} ${reason.success ? reason.data.error : ''}`,
      );
    }
    return tokens.data;
  }

  private async post(path: string, fields: Record<string, string>): Promise<Response> {
    try {
      return await fetch(new URL(path, this.options.domainUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: this.options.clientId, ...fields }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
    } catch (error) {
      throw new OAuthError(
        'server_error',
        'The authorization server is temporarily unavailable.',
        503,
        `Cognito unreachable: ${(error as Error).name}`,
      );
    }
  }
}
