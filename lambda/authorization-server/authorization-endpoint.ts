import type { OAuthClient } from './clients.js';
import { FacadeEndpoint } from './endpoint.js';
import {
  cookies,
  type FacadeRequest,
  type FacadeResponse,
  formFields,
  html,
  isSecret,
  redirect,
  singleValues,
} from './http.js';
import { OAuthError } from './oauth-error.js';
import { consentPage } from './pages.js';
import { redirectUriMatches } from './redirect-uris.js';
import { digest, newSecret, sameDigest, seal } from './secrets.js';
import type { Transaction } from './store.js';
import type { UpstreamTokens } from './upstream.js';

/** Scopes a client may ask for besides the MCP scope; only the MCP scope is granted. */
const TOLERATED_SCOPES = new Set(['openid', 'email', 'profile', 'offline_access']);
/** The browser cookie of a transaction: a name derived from its id, never the id itself. */
const cookieName = (transactionId: string) => `mcp_flow_${digest(transactionId).slice(0, 16)}`;

/**
 * The browser's leg: the authorization request (checked, kept, shown for consent), the
 * person's approval, and Cognito's answer at the callback, turned into a one-time code for
 * the client. A secret cookie per request ties the three steps to one browser.
 */
export class AuthorizationEndpoint extends FacadeEndpoint {
  /** The authorization endpoint: check everything, keep the request, go on to Cognito. */
  async authorize(request: FacadeRequest): Promise<FacadeResponse> {
    const params = singleValues(request.query);
    if (!params) return this.deadEnd('invalid_request', 'A parameter is repeated.');
    const clientId = params.client_id ?? '';
    let client: OAuthClient | undefined;
    try {
      client = clientId ? await this.options.clients.find(clientId) : undefined;
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return this.deadEnd('invalid_client', error.description, error.detail);
    }
    if (!client) return this.deadEnd('invalid_client', 'Unknown client.');
    const redirectUri =
      params.redirect_uri ??
      (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    // Never redirect to a URI the client did not register: the error stays on this page.
    if (!redirectUri || !redirectUriMatches(client.redirectUris, redirectUri)) {
      return this.deadEnd(
        'invalid_request',
        'The redirect URI is not registered for this client.',
        `client ${client.kind}`,
      );
    }
    // Errors go back to the client only if the operator registered it: a self-registered
    // client's redirect URI is not followed before a person approved it (RFC 9700 4.11.2),
    // or the façade would be an open redirector.
    const back = (code: string, description: string) =>
      client.kind === 'pre-registered'
        ? this.redirectError(redirectUri, params.state, code, description)
        : this.deadEnd(code, description);
    if (params.response_type !== 'code') {
      return back('unsupported_response_type', 'Only the authorization code flow is supported.');
    }
    if (
      params.code_challenge_method !== 'S256' ||
      !/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge ?? '')
    ) {
      return back('invalid_request', 'PKCE with S256 is required.');
    }
    if (params.resource !== undefined && !this.isOurResource(params.resource)) {
      return back('invalid_target', 'The requested resource is not served here.');
    }
    const scopes = (params.scope ?? this.options.scope).split(' ').filter(Boolean);
    if (scopes.some((scope) => scope !== this.options.scope && !TOLERATED_SCOPES.has(scope))) {
      return back('invalid_scope', 'A requested scope is not supported.');
    }

    // Every client, pre-registered or not, is approved by the person before Cognito is asked:
    // Cognito may sign them in without a page (its session), and the façade's one app client
    // stands for every MCP client (the MCP spec's confused-deputy rule). A secret cookie ties
    // the approval and Cognito's answer to this browser.
    const browser = newSecret();
    const id = newSecret();
    await this.options.store.putTransaction(
      id,
      {
        clientId: client.clientId,
        redirectUri,
        redirectUriGiven: params.redirect_uri !== undefined,
        ...(params.state !== undefined ? { state: params.state } : {}),
        codeChallenge: params.code_challenge as string,
        scope: this.options.scope,
        upstreamVerifier: newSecret(),
        browserDigest: digest(browser),
        approved: false,
      },
      this.transactionTtl(),
    );
    this.options.logger.info('Authorization request accepted; asking for consent', {
      clientId: client.clientId,
      clientKind: client.kind,
    });
    return html(
      200,
      consentPage({
        transaction: id,
        clientName: client.clientName ?? 'An unnamed application',
        clientId: client.clientId,
        clientKind: client.kind,
        redirectUri,
        scope: this.options.scope,
        action: this.urls.consent,
      }),
      { 'set-cookie': this.browserCookie(id, browser, this.transactionTtl()) },
    );
  }

  async consent(request: FacadeRequest): Promise<FacadeResponse> {
    const form = formFields(request);
    const id = isSecret(form?.transaction) ? (form?.transaction as string) : '';
    const transaction = id ? await this.options.store.getTransaction(id) : undefined;
    if (!transaction || transaction.approved) {
      return this.deadEnd(
        'invalid_request',
        'This sign-in request has expired. Start again from your application.',
      );
    }
    if (!this.sameBrowser(request, id, transaction)) {
      return this.deadEnd(
        'access_denied',
        'This approval did not come from the browser that was asked. Start again from your application.',
      );
    }
    this.options.logger.info('Consent answered', {
      clientId: transaction.clientId,
      decision: form?.decision === 'allow' ? 'allow' : 'deny',
    });
    if (form?.decision !== 'allow') {
      await this.options.store.takeTransaction(id);
      const refused = this.redirectError(
        transaction.redirectUri,
        transaction.state,
        'access_denied',
        'The person did not allow access.',
      );
      return {
        ...refused,
        headers: { ...refused.headers, 'set-cookie': this.browserCookie(id, '', 0) },
      };
    }
    // Approved once: a second approval of the same request finds it already approved.
    if (!(await this.options.store.approveTransaction(id))) {
      return this.deadEnd('invalid_request', 'This sign-in request was already approved.');
    }
    return redirect(this.options.upstream.authorizeUrl(id, digest(transaction.upstreamVerifier)));
  }

  /** Cognito's answer: redeem its code, and give the client a one-time code of our own. */
  async callback(request: FacadeRequest): Promise<FacadeResponse> {
    const params = singleValues(request.query);
    const id = isSecret(params?.state) ? (params?.state as string) : '';
    // Taken first, then checked: a Cognito answer in a browser that did not approve (a
    // forwarded sign-in link) spends the request, so the code in it can never be finished by
    // the browser that did. The person starts again; nobody else gets in.
    const taken = id ? await this.options.store.takeTransaction(id) : undefined;
    const clear = { 'set-cookie': this.browserCookie(id, '', 0) };
    const transaction =
      params && taken?.approved && this.sameBrowser(request, id, taken) ? taken : undefined;
    if (!params || !transaction) {
      const dead = this.deadEnd(
        'invalid_request',
        'This sign-in request has expired, was already used, or was started in another browser. Start again from your application.',
      );
      return { ...dead, headers: { ...dead.headers, ...clear } };
    }
    const back = (code: string, description: string) => {
      const response = this.redirectError(
        transaction.redirectUri,
        transaction.state,
        code,
        description,
      );
      return { ...response, headers: { ...response.headers, ...clear } };
    };
    if (params.error || !params.code) {
      this.options.logger.info('Cognito returned no code', { error: params.error ?? 'none' });
      return back('access_denied', 'The sign-in was not completed.');
    }
    let tokens: UpstreamTokens;
    try {
      tokens = await this.options.upstream.redeem(params.code, transaction.upstreamVerifier);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      this.options.logger.warn('Cognito code not redeemed', { detail: error.detail });
      return error.code === 'invalid_grant'
        ? back('access_denied', 'The sign-in was not completed.')
        : back('temporarily_unavailable', 'Sign-in is temporarily unavailable.');
    }
    this.options.logger.info('Sign-in completed; one-time code issued', {
      clientId: transaction.clientId,
    });
    const code = newSecret();
    await this.options.store.putCode(
      digest(code),
      {
        clientId: transaction.clientId,
        redirectUri: transaction.redirectUri,
        codeChallenge: transaction.codeChallenge,
        scope: transaction.scope,
        ...(transaction.redirectUriGiven ? { redirectUriGiven: true } : {}),
        sealedTokens: seal(code, JSON.stringify(tokens)),
      },
      this.options.codeTtlSeconds ?? 60,
    );
    const target = new URL(transaction.redirectUri);
    target.searchParams.set('code', code);
    if (transaction.state !== undefined) target.searchParams.set('state', transaction.state);
    target.searchParams.set('iss', this.urls.issuer);
    const delivered = redirect(target.href);
    return { ...delivered, headers: { ...delivered.headers, ...clear } };
  }

  /**
   * The cookie that ties a transaction to the browser that started it, named after the
   * transaction so parallel sign-ins in one browser do not overwrite each other. Lax, since
   * Cognito's redirect back to the callback is a cross-site top-level navigation.
   */
  private browserCookie(id: string, value: string, maxAge: number): string {
    // Over https a `__Host-` cookie (Secure, Path=/, no Domain): no sibling subdomain of a
    // custom domain can plant one of its own (MCP security best practices). Plain http is
    // development on loopback only, where a browser refuses Secure cookies.
    const attributes = `Max-Age=${maxAge}; HttpOnly; SameSite=Lax`;
    return this.secure
      ? `__Host-${cookieName(id)}=${value}; Path=/; Secure; ${attributes}`
      : `${cookieName(id)}=${value}; Path=${new URL(this.urls.callback).pathname.replace(/[^/]*$/, '')}; ${attributes}`;
  }

  private sameBrowser(request: FacadeRequest, id: string, transaction: Transaction): boolean {
    const name = `${this.secure ? '__Host-' : ''}${cookieName(id)}`;
    const secret = cookies(request.headers.cookie)[name];
    return secret !== undefined && sameDigest(secret, transaction.browserDigest);
  }

  private get secure(): boolean {
    return this.urls.issuer.startsWith('https:');
  }
}
