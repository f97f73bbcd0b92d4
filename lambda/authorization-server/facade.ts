import { TOKEN_EXCHANGE_GRANT } from '../shared/edge/agent-token.js';
import { FACADE_PATHS } from '../shared/edge/oauth-metadata.js';
import { AuthorizationEndpoint } from './authorization-endpoint.js';
import { FacadeEndpoint, type FacadeOptions } from './endpoint.js';
import { type FacadeRequest, type FacadeResponse, json, preflight } from './http.js';
import { InvitationEndpoint } from './invitation-endpoint.js';
import { OAuthError, OAuthRetryLater } from './oauth-error.js';
import { RegistrationEndpoint } from './registration-endpoint.js';
import { TokenEndpoint } from './token-endpoint.js';

export type { FacadeOptions } from './endpoint.js';
export type { FacadeRequest, FacadeResponse } from './http.js';

/**
 * The OAuth authorization server MCP clients talk to, in front of Cognito: RFC 8414 metadata,
 * client registration (pre-registered, Client ID Metadata Documents, RFC 7591), an
 * authorization endpoint that checks the client's request (exact redirect URI, PKCE S256,
 * `resource`, scopes) and sends the browser on to Cognito Managed Login with the façade's own
 * client and PKCE, a callback that redeems Cognito's code and hands the client a one-time
 * code, and a token endpoint for that code and for refresh. Cognito stays the identity
 * provider: its access tokens, with the tenant from the pre-token trigger, are what the client
 * gets. Agents (a tenant's own confidential clients) also get their tokens here, signed by the
 * platform's KMS key, whose public half the façade publishes as a JWKS (agent-grants.ts). No
 * code, token, secret or state is ever logged.
 */
export class AuthorizationFacade extends FacadeEndpoint {
  private readonly authorization: AuthorizationEndpoint;
  private readonly tokens: TokenEndpoint;
  private readonly registration: RegistrationEndpoint;
  private readonly invitations?: InvitationEndpoint;

  constructor(options: FacadeOptions) {
    super(options);
    this.authorization = new AuthorizationEndpoint(options);
    this.tokens = new TokenEndpoint(options);
    this.registration = new RegistrationEndpoint(options);
    if (options.invitationSignUp) {
      this.invitations = new InvitationEndpoint(options, options.invitationSignUp);
    }
  }

  metadata() {
    return {
      issuer: this.urls.issuer,
      authorization_endpoint: this.urls.authorize,
      token_endpoint: this.urls.token,
      registration_endpoint: this.urls.register,
      // The keys of what this issuer signs (agents' tokens, webhook credentials). People's
      // tokens carry Cognito's issuer and are verified with Cognito's keys.
      jwks_uri: this.options.agentGrants ? this.urls.jwks : this.options.jwksUri,
      scopes_supported: [this.options.scope],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        ...(this.options.agentGrants ? ['client_credentials', TOKEN_EXCHANGE_GRANT] : []),
      ],
      code_challenge_methods_supported: ['S256'],
      // Public MCP clients use none; agents (their own OAuth clients) client_secret_basic.
      token_endpoint_auth_methods_supported: [
        'none',
        ...(this.options.agentGrants ? ['client_secret_basic'] : []),
      ],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  async handle(request: FacadeRequest): Promise<FacadeResponse> {
    const route = `${request.method} ${request.path}`;
    try {
      switch (route) {
        case `GET ${FACADE_PATHS.metadata}`:
        case `GET ${FACADE_PATHS.openidConfiguration}`:
          return json(200, this.metadata(), { 'cache-control': 'public, max-age=3600' });
        case `OPTIONS ${FACADE_PATHS.metadata}`:
        case `OPTIONS ${FACADE_PATHS.openidConfiguration}`:
        case `OPTIONS ${FACADE_PATHS.token}`:
        case `OPTIONS ${FACADE_PATHS.register}`:
          return preflight();
        case `GET ${FACADE_PATHS.jwks}`:
          if (this.options.agentGrants) {
            const { signer, published = [] } = this.options.agentGrants;
            const sets = await Promise.all([signer, ...published].map((key) => key.jwks()));
            return json(
              200,
              { keys: sets.flatMap((set) => set.keys) },
              {
                'cache-control': 'public, max-age=300',
              },
            );
          }
          break;
        case `GET ${FACADE_PATHS.authorize}`:
          return await this.authorization.authorize(request);
        case `POST ${FACADE_PATHS.consent}`:
          return await this.authorization.consent(request);
        case `GET ${FACADE_PATHS.callback}`:
          return await this.authorization.callback(request);
        case `POST ${FACADE_PATHS.token}`:
          return await this.tokens.token(request);
        case `POST ${FACADE_PATHS.register}`:
          return await this.registration.register(request);
        case `GET ${FACADE_PATHS.invitation}`:
          if (this.invitations) return this.invitations.page(request);
          break;
        case `POST ${FACADE_PATHS.invitation}`:
          if (this.invitations) return await this.invitations.signUp(request);
          break;
        case `POST ${FACADE_PATHS.invitationConfirm}`:
          if (this.invitations) return await this.invitations.confirm(request);
          break;
      }
      return json(404, { error: 'invalid_request', error_description: 'Not found.' });
    } catch (error) {
      if (error instanceof OAuthError) {
        this.options.logger.info('OAuth request refused', {
          route,
          error: error.code,
          detail: error.detail ?? error.description,
        });
        return json(
          error.status,
          { error: error.code, error_description: error.description },
          error instanceof OAuthRetryLater
            ? { 'retry-after': String(error.retryAfterSeconds) }
            : {},
        );
      }
      this.options.logger.error('OAuth request failed', {
        route,
        error: { name: (error as Error).name, message: (error as Error).message },
      });
      return json(500, {
        error: 'server_error',
        error_description: 'The authorization server could not complete the request.',
      });
    }
  }
}
