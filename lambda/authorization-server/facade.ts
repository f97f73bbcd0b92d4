import type { Logger } from '@aws-lambda-powertools/logger';
import {
  endpointUrls,
  FACADE_PATHS,
  facadeUrls,
  REFRESH_ROTATION_GRACE_SECONDS,
} from '../shared/oauth-metadata.js';
import { type ClientDirectory, type OAuthClient, RegistrationRequest } from './clients.js';
import { OAuthError } from './oauth-error.js';
import { consentPage, errorPage } from './pages.js';
import { redirectUriMatches } from './redirect-uris.js';
import { digest, newSecret, pkceMatches, sameDigest, seal, unseal } from './secrets.js';
import type { FacadeStore, Transaction } from './store.js';
import type { CognitoUpstream, UpstreamTokens } from './upstream.js';

/** An HTTP request as the façade reads it: parsed once from the proxy event. */
export interface FacadeRequest {
  readonly method: string;
  /** The path under the stage, e.g. `/oauth/token`. */
  readonly path: string;
  /** Every value of every query parameter (repeated parameters are an error in OAuth). */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly sourceIp: string;
}

export interface FacadeResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

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
  /** Dynamic registrations per source address and in all, per hour. @default 20 and 1,000 */
  readonly registrationLimits?: { readonly perSource: number; readonly total: number };
}

/** Scopes a client may ask for besides the MCP scope; only the MCP scope is granted. */
const TOLERATED_SCOPES = new Set(['openid', 'email', 'profile', 'offline_access']);
/** The browser cookie of a transaction: a name derived from its id, never the id itself. */
const cookieName = (transactionId: string) => `mcp_flow_${digest(transactionId).slice(0, 16)}`;
const FORM = 'application/x-www-form-urlencoded';

/**
 * The OAuth authorization server MCP clients talk to, in front of Cognito: RFC 8414 metadata,
 * client registration (pre-registered, Client ID Metadata Documents, RFC 7591), an
 * authorization endpoint that checks the client's request (exact redirect URI, PKCE S256,
 * `resource`, scopes) and sends the browser on to Cognito Managed Login with the façade's own
 * client and PKCE, a callback that redeems Cognito's code and hands the client a one-time
 * code, and a token endpoint for that code and for refresh. Cognito stays the identity
 * provider: its access tokens, with the tenant from the pre-token trigger, are what the client
 * gets. No code, token or state is ever logged.
 */
export class AuthorizationFacade {
  private readonly urls: ReturnType<typeof facadeUrls>;
  private readonly resource: string;

  constructor(private readonly options: FacadeOptions) {
    this.urls = facadeUrls(options.apiBaseUrl);
    this.resource = endpointUrls(options.apiBaseUrl).resource;
  }

  metadata() {
    return {
      issuer: this.urls.issuer,
      authorization_endpoint: this.urls.authorize,
      token_endpoint: this.urls.token,
      registration_endpoint: this.urls.register,
      // The OpenID alias must name the keys; they are Cognito's, which signs the tokens.
      jwks_uri: this.options.jwksUri,
      scopes_supported: [this.options.scope],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
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
        case `GET ${FACADE_PATHS.authorize}`:
          return await this.authorize(request);
        case `POST ${FACADE_PATHS.consent}`:
          return await this.consent(request);
        case `GET ${FACADE_PATHS.callback}`:
          return await this.callback(request);
        case `POST ${FACADE_PATHS.token}`:
          return await this.token(request);
        case `POST ${FACADE_PATHS.register}`:
          return await this.register(request);
        default:
          return json(404, { error: 'invalid_request', error_description: 'Not found.' });
      }
    } catch (error) {
      if (error instanceof OAuthError) {
        this.options.logger.info('OAuth request refused', {
          route,
          error: error.code,
          detail: error.detail ?? error.description,
        });
        return json(error.status, { error: error.code, error_description: error.description });
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

  /** The authorization endpoint: check everything, keep the request, go on to Cognito. */
  private async authorize(request: FacadeRequest): Promise<FacadeResponse> {
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

  private async consent(request: FacadeRequest): Promise<FacadeResponse> {
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
  private async callback(request: FacadeRequest): Promise<FacadeResponse> {
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

  private async token(request: FacadeRequest): Promise<FacadeResponse> {
    if (request.headers.authorization) {
      throw new OAuthError(
        'invalid_client',
        'Only public clients (no client authentication) are supported.',
      );
    }
    const form = formFields(request);
    if (!form)
      throw new OAuthError(
        'invalid_request',
        'The request must be a form with each parameter once.',
      );
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
      // Cognito that could not be reached leaves the binding for the client's retry.
      if (error instanceof OAuthError && error.code === 'invalid_grant') {
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

  private async register(request: FacadeRequest): Promise<FacadeResponse> {
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new OAuthError('invalid_client_metadata', 'The registration must be JSON.');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      throw new OAuthError('invalid_client_metadata', 'The registration is not valid JSON.');
    }
    const parsed = RegistrationRequest.safeParse(body);
    if (!parsed.success) {
      const redirect = parsed.error.issues.some((issue) => issue.path[0] === 'redirect_uris');
      throw new OAuthError(
        redirect ? 'invalid_redirect_uri' : 'invalid_client_metadata',
        redirect
          ? 'Redirect URIs must be https, http on loopback, or a native app scheme, without fragments.'
          : 'The client metadata is not acceptable: public clients with the code flow only.',
        400,
        parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
      );
    }
    const limits = this.options.registrationLimits ?? { perSource: 20, total: 1_000 };
    const hour = Math.floor(Date.now() / 3_600_000);
    const admitted = await this.options.store.admit([
      {
        // The source address, hashed: the table keeps no IP address.
        key: `REGISTRATIONS#${hour}#${digest(request.sourceIp).slice(0, 22)}`,
        limit: limits.perSource,
        ttlSeconds: 7200,
      },
      { key: `REGISTRATIONS#${hour}`, limit: limits.total, ttlSeconds: 7200 },
    ]);
    if (!admitted) {
      this.options.logger.warn('Client registration refused: hourly limit reached');
      return json(
        429,
        {
          error: 'temporarily_unavailable',
          error_description: 'Too many registrations. Try again later.',
        },
        { 'retry-after': String(3600 - Math.floor((Date.now() / 1000) % 3600)) },
      );
    }
    const client = await this.options.clients.register(parsed.data);
    this.options.logger.info('Client registered', { clientId: client.clientId });
    return json(201, {
      client_id: client.clientId,
      client_id_issued_at: client.issuedAt,
      redirect_uris: client.redirectUris,
      ...(client.clientName ? { client_name: client.clientName } : {}),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  }

  /** An error the client may hear about, at its (verified) redirect URI, with `iss` (RFC 9207). */
  private redirectError(
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
  private deadEnd(code: string, description: string, detail?: string): FacadeResponse {
    this.options.logger.info('Authorization request refused', {
      error: code,
      detail: detail ?? description,
    });
    return html(400, errorPage(description));
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

  /** RFC 8707 resource values are URIs: a trailing slash or the case of the host is no other server. */
  private isOurResource(value: string): boolean {
    try {
      const url = new URL(value);
      return url.href.replace(/\/$/, '') === new URL(this.resource).href;
    } catch {
      return false;
    }
  }

  private transactionTtl() {
    return this.options.transactionTtlSeconds ?? 600;
  }

  private refreshTtl() {
    return this.options.refreshTtlSeconds ?? 30 * 24 * 3600;
  }
}

/** Whether a value has the form of a secret this façade made (newSecret: 32 bytes, base64url). */
const isSecret = (value: string | undefined): boolean => /^[A-Za-z0-9_-]{43}$/.test(value ?? '');

/** One value per parameter, or undefined if any is repeated (RFC 6749 3.1, 3.2). */
function singleValues(
  query: Readonly<Record<string, readonly string[]>>,
): Record<string, string> | undefined {
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(query)) {
    if (values.length !== 1) return undefined;
    single[name] = values[0] as string;
  }
  return single;
}

function formFields(request: FacadeRequest): Record<string, string> | undefined {
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith(FORM)) return undefined;
  const fields: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(request.body)) {
    fields[name] = [...(fields[name] ?? []), value];
  }
  return singleValues(fields);
}

function cookies(header: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (header ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .filter((pair): pair is [string, string] => pair.length === 2),
  );
}

const CORS = { 'access-control-allow-origin': '*' };

function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): FacadeResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...CORS,
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

function preflight(): FacadeResponse {
  return {
    statusCode: 204,
    headers: {
      ...CORS,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, mcp-protocol-version',
      'access-control-max-age': '3600',
    },
    body: '',
  };
}

function redirect(location: string): FacadeResponse {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

function html(
  statusCode: number,
  body: string,
  headers: Record<string, string> = {},
): FacadeResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
    body,
  };
}
