import type { Logger } from '@aws-lambda-powertools/logger';
import { endpointUrls, facadeUrls } from '../shared/edge/oauth-metadata.js';
import type { AgentGrantOptions } from './agent-grants.js';
import type { ClientDirectory } from './clients.js';
import { type FacadeResponse, html, redirect } from './http.js';
import type { InvitationSignUp } from './invitation-endpoint.js';
import { errorPage } from './pages.js';
import type { FacadeStore } from './store.js';
import type { CognitoUpstream } from './upstream.js';

export interface FacadeOptions {
  /** The API's public base URL: the façade's issuer. */
  readonly apiBaseUrl: string;
  /** The scope that marks MCP access (`mcp/invoke`). */
  readonly scope: string;
  /** Where the keys that sign the (Cognito) access tokens are published. */
  readonly jwksUri: string;
  readonly clients: ClientDirectory;
  readonly store: FacadeStore;
  readonly upstream: CognitoUpstream;
  readonly logger: Logger;
  /** @default 600 (the person signs up or in meanwhile) */
  readonly transactionTtlSeconds?: number;
  /** @default 60 */
  readonly codeTtlSeconds?: number;
  /** As long as Cognito's refresh tokens. @default 30 days */
  readonly refreshTtlSeconds?: number;
  /** The user pool's sign-up for the invitation page; without it the page is a 404. */
  readonly invitationSignUp?: InvitationSignUp;
  /**
   * Agents' grants (client credentials, token exchange) and the platform's JWKS; without it
   * the token endpoint serves public MCP clients only.
   */
  readonly agentGrants?: AgentGrantOptions;
  /** Dynamic registrations per source address and in all, per hour. @default 20 and 1,000 */
  readonly registrationLimits?: { readonly perSource: number; readonly total: number };
}

/** What every endpoint of the façade shares: its configuration, URLs and ways to say no. */
export abstract class FacadeEndpoint {
  protected readonly urls: ReturnType<typeof facadeUrls>;
  protected readonly resource: string;

  constructor(protected readonly options: FacadeOptions) {
    this.urls = facadeUrls(options.apiBaseUrl);
    this.resource = endpointUrls(options.apiBaseUrl).resource;
  }

  /** An error the client may hear about, at its (verified) redirect URI, with `iss` (RFC 9207). */
  protected redirectError(
    redirectUri: string,
    state: string | undefined,
    error: string,
    description: string,
  ) {
    const target = new URL(redirectUri);
    target.searchParams.set('error', error);
    target.searchParams.set('error_description', description);
    if (state !== undefined) target.searchParams.set('state', state);
    target.searchParams.set('iss', this.urls.issuer);
    return redirect(target.href);
  }

  /** An error shown in the browser: the client or redirect URI cannot be trusted with it. */
  protected deadEnd(code: string, description: string, detail?: string): FacadeResponse {
    this.options.logger.info('Authorization request refused', {
      error: code,
      detail: detail ?? description,
    });
    return html(400, errorPage(description));
  }

  /** RFC 8707 resource values are URIs: a trailing slash or the case of the host is no other server. */
  protected isOurResource(value: string): boolean {
    try {
      const url = new URL(value);
      return url.href.replace(/\/$/, '') === new URL(this.resource).href;
    } catch {
      return false;
    }
  }

  protected transactionTtl() {
    return this.options.transactionTtlSeconds ?? 600;
  }

  protected refreshTtl() {
    return this.options.refreshTtlSeconds ?? 30 * 24 * 3600;
  }
}
