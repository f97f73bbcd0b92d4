import { TOKEN_EXCHANGE_GRANT } from '../shared/edge/agent-token.js';
import { REFRESH_ROTATION_GRACE_SECONDS } from '../shared/edge/oauth-metadata.js';
import { AgentGrants } from './agent-grants.js';
import type { OAuthClient } from './clients.js';
import { FacadeEndpoint, type FacadeOptions } from './endpoint.js';
import { type FacadeRequest, type FacadeResponse, formFields, json } from './http.js';
import { OAuthError } from './oauth-error.js';
import { digest, pkceMatches, unseal } from './secrets.js';
import { REFUSED_BY_TRIGGER, type UpstreamTokens } from './upstream.js';

/**
 * The token endpoint: a one-time code for Cognito's tokens (client, redirect URI, PKCE, single
 * use; a replay asks Cognito to revoke what it gave), and refresh through Cognito, each
 * refresh token bound to the client it was issued to.
 */
export class TokenEndpoint extends FacadeEndpoint {
  private readonly agents?: AgentGrants;

  constructor(options: FacadeOptions) {
    super(options);
    if (options.agentGrants) this.agents = new AgentGrants(options, options.agentGrants);
  }

  async token(request: FacadeRequest): Promise<FacadeResponse> {
    const form = formFields(request);
    if (!form)
      throw new OAuthError(
        'invalid_request',
        'The request must be a form with each parameter once.',
      );
    // Client authentication is an agent's (confidential client); MCP clients are public.
    if (request.headers.authorization !== undefined) {
      if (!this.agents) {
        throw new OAuthError('invalid_client', 'Client authentication failed.');
      }
      return this.agents.token(request.headers.authorization, form, request.sourceIp);
    }
    // A person's client delegating to an agent, with the agent's token as the actor (RFC 8693):
    // the two tokens are the credentials, as the standard allows for a public client.
    if (this.agents && form.grant_type === TOKEN_EXCHANGE_GRANT) {
      return this.agents.exchangeWithActor(form);
    }
    const clientId = form.client_id ?? '';
    // Only an unknown or unacceptable client is invalid_client (clients then register anew);
    // a store or network failure is a server error, which they retry.
    const client = clientId ? await this.options.clients.forTokenRequest(clientId) : undefined;
    if (!client) throw new OAuthError('invalid_client', 'Unknown client.');
    if (form.resource !== undefined && !this.isOurResource(form.resource)) {
      throw new OAuthError('invalid_target', 'The requested resource is not served here.');
    }
    if (form.grant_type === 'authorization_code') return this.redeemCode(client, form);
    if (form.grant_type === 'refresh_token') return this.refresh(client, form);
    throw new OAuthError(
      'unsupported_grant_type',
      'Only authorization_code and refresh_token are supported.',
    );
  }

  private async redeemCode(
    client: OAuthClient,
    form: Record<string, string>,
  ): Promise<FacadeResponse> {
    const invalid = (detail: string) =>
      new OAuthError(
        'invalid_grant',
        'The authorization code is invalid, expired or already used.',
        400,
        detail,
      );
    const code = form.code ?? '';
    const taken = code ? await this.options.store.takeCode(digest(code)) : undefined;
    if (!taken) throw invalid('unknown or expired code');
    if (taken.replayed) {
      // A code presented twice: whoever has it, the tokens it produced are revoked (RFC 6749 4.1.2).
      const tokens = JSON.parse(unseal(code, taken.record.sealedTokens)) as UpstreamTokens;
      const revoked = tokens.refresh_token
        ? await this.options.upstream.revoke(tokens.refresh_token)
        : true;
      this.options.logger.warn('Authorization code replayed; its refresh token is revoked', {
        clientId: client.clientId,
        revoked,
      });
      throw invalid('code replayed');
    }
    const { record } = taken;
    if (record.clientId !== client.clientId) throw invalid('code issued to another client');
    // Required, and identical, if the authorization request named it (RFC 6749 4.1.3).
    if (
      (record.redirectUriGiven || form.redirect_uri !== undefined) &&
      form.redirect_uri !== record.redirectUri
    ) {
      throw invalid('redirect_uri differs');
    }
    if (!pkceMatches(form.code_verifier ?? '', record.codeChallenge))
      throw invalid('PKCE verifier does not match');
    const tokens = JSON.parse(unseal(code, record.sealedTokens)) as UpstreamTokens;
    return this.issue(client, tokens, record.scope);
  }

  private async refresh(
    client: OAuthClient,
    form: Record<string, string>,
  ): Promise<FacadeResponse> {
    const refreshToken = form.refresh_token ?? '';
    const bound = refreshToken ? digest(refreshToken) : '';
    const binding = bound ? await this.options.store.getRefreshBinding(bound) : undefined;
    // Issued to another client (or never through the façade): refused, and not spent.
    if (binding?.clientId !== client.clientId) {
      throw new OAuthError(
        'invalid_grant',
        'The refresh token is invalid, expired or revoked.',
        400,
        binding ? 'refresh token of another client' : 'no binding',
      );
    }
    let tokens: UpstreamTokens;
    try {
      tokens = await this.options.upstream.refresh(refreshToken);
    } catch (error) {
      // Cognito refused it for good (revoked, expired, rotated away): so does the façade. A
      // Cognito that could not be reached, or whose pre-token trigger refused (a suspended
      // tenant, resumed later), leaves the binding for the client's retry, as Cognito keeps
      // the token.
      if (
        error instanceof OAuthError &&
        error.code === 'invalid_grant' &&
        error.detail !== REFUSED_BY_TRIGGER
      ) {
        await this.options.store.deleteRefreshBinding(bound);
      }
      throw error;
    }
    // With rotation Cognito returns a new refresh token and the old one is done; without
    // rotation the old one stays valid, and so does its binding.
    const rotated = tokens.refresh_token !== undefined && tokens.refresh_token !== refreshToken;
    const response = await this.issue(
      client,
      { ...tokens, refresh_token: tokens.refresh_token ?? refreshToken },
      this.options.scope,
      { bindRefresh: rotated },
    );
    // The old token is done, but a retry of this very refresh (a lost answer) may still come:
    // it keeps working for Cognito's grace period, as at Cognito.
    if (rotated) {
      await this.options.store.expireRefreshBinding(bound, REFRESH_ROTATION_GRACE_SECONDS);
    }
    return response;
  }

  private async issue(
    client: OAuthClient,
    tokens: UpstreamTokens,
    scope: string,
    options: { bindRefresh: boolean } = { bindRefresh: true },
  ): Promise<FacadeResponse> {
    if (client.kind === 'registered') {
      await this.options.store.extendClient(
        client.clientId,
        this.options.clients.registrationTtl(),
      );
    }
    if (tokens.refresh_token && options.bindRefresh) {
      await this.options.store.putRefreshBinding(
        digest(tokens.refresh_token),
        client.clientId,
        this.refreshTtl(),
      );
    }
    this.options.logger.info('Tokens issued', {
      clientId: client.clientId,
      clientKind: client.kind,
    });
    return json(
      200,
      {
        access_token: tokens.access_token,
        token_type: 'Bearer',
        expires_in: tokens.expires_in,
        scope,
        ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
      },
      { pragma: 'no-cache' },
    );
  }
}
