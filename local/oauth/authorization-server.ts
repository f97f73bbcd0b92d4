import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { ORGANIZATION_ATTRIBUTE } from '../../lambda/shared/registry/organization.js';
import { blockedSignUp, type RateBasedRule } from '../stand-ins/waf.js';
import { confirmPage, errorPage, type FlowParams, signInPage, signUpPage } from './pages.js';
import type { TokenIssuer } from './token-issuer.js';

export interface AuthorizationServerOptions {
  readonly issuer: () => string;
  /** The one app client: the authorization façade's (public, PKCE). */
  readonly clientId: string;
  /** Its callback URLs (compared exactly, as Cognito does); the harness sets them once known. */
  readonly redirectUris: string[];
  readonly scope: string;
  /**
   * Identifiers of the pool's resource servers. Cognito accepts an RFC 8707 `resource`
   * parameter only if it names one of them (resource binding); anything else is refused.
   */
  readonly resourceServers: readonly string[];
  readonly tokens: TokenIssuer;
  /** The user pool's API for the pages' sign-up, confirmation and new codes. */
  readonly cognito: CognitoIdentityProviderClient;
  /**
   * The web ACL's sign-up rule, in front of the pages as WAF is in front of Managed Login: the
   * sign-up form's posts counted per source address and blocked past the limit.
   * @default - no rule
   */
  readonly signUpRule?: RateBasedRule;
  /** The stand-in's sign-in check (the part of Managed Login that verifies a password). */
  readonly signIn: (
    email: string,
    password: string,
    /** The new password a NEW_PASSWORD_REQUIRED challenge asked for. */
    newPassword?: string,
  ) => Promise<{ sub: string } | { error: string; message: string }>;
  /**
   * The user pool's word on a refresh token issued at `issuedAt` (ms): false once its user is
   * deleted, disabled or globally signed out since.
   */
  readonly refreshable: (sub: string, issuedAt: number) => Promise<boolean>;
  /** @default 300 */
  readonly codeTtlSeconds?: number;
  /** @default 3600 */
  readonly accessTokenTtlSeconds?: number;
}

interface Grant {
  /** The refresh token this code produced, revoked if the code is ever presented again. */
  refreshToken?: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly sub: string;
  readonly scope: string;
  readonly expiresAt: number;
}

const FLOW_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
];

/** How long a Managed Login session signs a browser in again without a page (Cognito: 1 hour). */
const SESSION_MS = 60 * 60 * 1000;

/** How long Managed Login remembers a sign-up to sign the person in after confirmation. */
const SIGN_UP_SESSION_MS = 10 * 60 * 1000;

/**
 * Cognito's OAuth side for local runs, as strict as Cognito where Cognito differs from what MCP
 * clients want: OpenID discovery only (no RFC 8414 document, no `code_challenge_methods_supported`,
 * no registration endpoint, secret-based token endpoint auth methods listed), one app client
 * whose callback URLs match exactly, `resource` refused unless it names a resource server, and
 * the person signed in right after the confirmation code, as Managed Login does. Pages for
 * sign-in, sign-up and confirmation; the token endpoint (authorization code with PKCE S256,
 * refresh tokens with rotation) and revocation. A bad client or redirect URI is never
 * redirected to.
 */
export class AuthorizationServer {
  private readonly codes = new Map<string, Grant & { used: boolean }>();
  private readonly refreshTokens = new Map<
    string,
    { sub: string; clientId: string; scope: string; issuedAt: number }
  >();
  /** Managed Login sessions of signed-in browsers, by the id in their `cognito` cookie. */
  private readonly sessions = new Map<string, { sub: string; until: number }>();
  /** Sign-ups waiting for their confirmation code, by session id (a hidden form field). */
  private readonly signUps = new Map<string, { email: string; sub: string; until: number }>();

  constructor(private readonly options: AuthorizationServerOptions) {}

  /** Cognito's OpenID discovery document, field for field (no PKCE or registration fields). */
  metadata() {
    const issuer = this.options.issuer();
    return {
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      end_session_endpoint: `${issuer}/logout`,
      id_token_signing_alg_values_supported: ['RS256'],
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code', 'token'],
      revocation_endpoint: `${issuer}/oauth2/revoke`,
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      subject_types_supported: ['public'],
      token_endpoint: `${issuer}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: `${issuer}/oauth2/userInfo`,
    };
  }

  /** Handles the request if it is one of this server's; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (this.options.signUpRule && blockedSignUp(this.options.signUpRule, req, res, path)) {
      return true;
    }
    if (method === 'OPTIONS' && (path.startsWith('/.well-known/') || path === '/oauth2/token')) {
      res.writeHead(
        204,
        cors({
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type, authorization, mcp-protocol-version',
        }),
      );
      res.end();
      return true;
    }
    // Cognito serves OpenID discovery only: /.well-known/oauth-authorization-server is a 404.
    if (method === 'GET' && path === '/.well-known/openid-configuration') {
      json(res, 200, this.metadata());
      return true;
    }
    if (path === '/oauth2/revoke' && method === 'POST') {
      const fields = await form(req);
      const known = this.refreshTokens.get(fields.token ?? '');
      if (known?.clientId === fields.client_id) this.refreshTokens.delete(fields.token as string);
      json(res, 200, {});
      return true;
    }
    if (path === '/oauth2/authorize' && method === 'GET') {
      await this.authorizePage(
        req,
        res,
        Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams),
      );
      return true;
    }
    if (path === '/oauth2/authorize' && method === 'POST') {
      await this.signInSubmitted(res, await form(req));
      return true;
    }
    if (path === '/signup' && method === 'GET') {
      const params = pick(Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams));
      if (this.flowError(params)) html(res, 400, errorPage(this.flowError(params) as string));
      else html(res, 200, signUpPage(params));
      return true;
    }
    if (path === '/signup' && method === 'POST') {
      await this.signUpSubmitted(res, await form(req));
      return true;
    }
    if (path === '/confirm' && method === 'POST') {
      await this.confirmSubmitted(res, await form(req));
      return true;
    }
    if (path === '/resend' && method === 'POST') {
      await this.confirmSubmitted(res, await form(req), true);
      return true;
    }
    if (path === '/oauth2/token' && method === 'POST') {
      await this.token(res, await form(req));
      return true;
    }
    return false;
  }

  /** Why the client and redirect URI cannot be trusted, if they cannot (no redirect then). */
  private flowError(params: FlowParams): string | undefined {
    if (params.client_id !== this.options.clientId) return 'Unknown client.';
    if (!params.redirect_uri || !this.options.redirectUris.includes(params.redirect_uri)) {
      return 'The redirect URI is not registered for this client.';
    }
    return undefined;
  }

  /** An error the client may hear about, sent to its redirect URI (RFC 6749 4.1.2.1). */
  private redirectError(
    res: ServerResponse,
    params: FlowParams,
    error: string,
    description: string,
  ) {
    const target = new URL(params.redirect_uri as string);
    target.searchParams.set('error', error);
    target.searchParams.set('error_description', description);
    if (params.state) target.searchParams.set('state', params.state);
    res.writeHead(302, { location: target.href }).end();
  }

  private checkFlow(res: ServerResponse, params: FlowParams): boolean {
    const untrusted = this.flowError(params);
    if (untrusted) {
      html(res, 400, errorPage(untrusted));
      return false;
    }
    if (params.response_type !== 'code') {
      this.redirectError(
        res,
        params,
        'unsupported_response_type',
        'Only the authorization code flow is supported.',
      );
      return false;
    }
    if (!params.code_challenge || params.code_challenge_method !== 'S256') {
      this.redirectError(res, params, 'invalid_request', 'PKCE with S256 is required.');
      return false;
    }
    if (params.resource !== undefined && !this.options.resourceServers.includes(params.resource)) {
      this.redirectError(res, params, 'invalid_request', 'invalid_resource');
      return false;
    }
    const supported = [...this.metadata().scopes_supported, this.options.scope];
    if ((params.scope ?? '').split(' ').some((scope) => scope && !supported.includes(scope))) {
      this.redirectError(res, params, 'invalid_scope', 'A requested scope is not supported.');
      return false;
    }
    return true;
  }

  /**
   * The sign-in page, or none: like Managed Login, a browser with a live session (the
   * `cognito` cookie, set at sign-in) is signed in again without a page, and straight back
   * to the callback with a code.
   */
  private async authorizePage(
    req: IncomingMessage,
    res: ServerResponse,
    query: FlowParams,
  ): Promise<void> {
    const params = pick(query);
    if (!this.checkFlow(res, params)) return;
    const id = /(?:^|;\s*)cognito=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
    const session = id ? this.sessions.get(id) : undefined;
    if (session && session.until > Date.now()) return this.signedIn(res, params, session.sub);
    html(res, 200, signInPage(params));
  }

  private async signInSubmitted(res: ServerResponse, fields: FlowParams): Promise<void> {
    const params = pick(fields);
    if (!this.checkFlow(res, params)) return;
    const outcome = await this.options.signIn(
      fields.email ?? '',
      fields.password ?? '',
      fields.new_password || undefined,
    );
    if ('error' in outcome) {
      // A temporary password (an invitation's): Managed Login asks for a new one first.
      const challenge = outcome.error === 'NEW_PASSWORD_REQUIRED' || !!fields.new_password;
      return html(
        res,
        200,
        signInPage(params, {
          error: outcome.message,
          ...(challenge && outcome.error !== 'NotAuthorizedException'
            ? { newPasswordFor: fields.email ?? '' }
            : {}),
        }),
      );
    }
    await this.signedIn(res, params, outcome.sub);
  }

  /** The person is authenticated: a code for the client, unless the pre-token trigger refuses. */
  private async signedIn(
    res: ServerResponse,
    params: FlowParams,
    sub: string,
    notice?: string,
  ): Promise<void> {
    const scope = params.scope || `openid email ${this.options.scope}`;
    // As Cognito does: a user the pre-token trigger refuses (no organisation, one still being
    // set up, a suspended one) is told so on the sign-in page, and gets no code.
    const allowed = await this.options.tokens.check({
      sub,
      clientId: this.options.clientId,
      scope,
    });
    if (!allowed.ok) {
      return html(res, 200, signInPage(params, { error: allowed.description, notice }));
    }
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, {
      clientId: params.client_id as string,
      redirectUri: params.redirect_uri as string,
      challenge: params.code_challenge as string,
      sub,
      scope,
      expiresAt: Date.now() + (this.options.codeTtlSeconds ?? 300) * 1000,
      used: false,
    });
    const target = new URL(params.redirect_uri as string);
    target.searchParams.set('code', code);
    if (params.state) target.searchParams.set('state', params.state);
    const session = randomBytes(24).toString('base64url');
    this.sessions.set(session, { sub, until: Date.now() + SESSION_MS });
    res
      .writeHead(302, {
        location: target.href,
        'set-cookie': `cognito=${session}; Path=/; Max-Age=${SESSION_MS / 1000}; HttpOnly; SameSite=Lax`,
      })
      .end();
  }

  private async signUpSubmitted(res: ServerResponse, fields: FlowParams): Promise<void> {
    const params = pick(fields);
    const untrusted = this.flowError(params);
    if (untrusted) return html(res, 400, errorPage(untrusted));
    const email = (fields.email ?? '').trim().toLowerCase();
    let sub: string;
    try {
      ({ UserSub: sub = '' } = await this.options.cognito.send(
        new SignUpCommand({
          ClientId: this.options.clientId,
          Username: email,
          Password: fields.password ?? '',
          UserAttributes: [
            { Name: 'email', Value: email },
            ...(fields.organization?.trim()
              ? [{ Name: ORGANIZATION_ATTRIBUTE, Value: fields.organization }]
              : []),
          ],
        }),
      ));
    } catch (error) {
      return html(res, 200, signUpPage(params, { error: (error as Error).message }));
    }
    const session = randomBytes(24).toString('base64url');
    this.signUps.set(session, { email, sub, until: Date.now() + SIGN_UP_SESSION_MS });
    html(res, 200, confirmPage(params, email, session));
  }

  private async confirmSubmitted(
    res: ServerResponse,
    fields: FlowParams,
    resend = false,
  ): Promise<void> {
    const params = pick(fields);
    const untrusted = this.flowError(params);
    if (untrusted) return html(res, 400, errorPage(untrusted));
    if (resend) {
      // Managed Login's "Resend code": a new code, and the attempt count starts again.
      const sent = await this.options.cognito
        .send(
          new ResendConfirmationCodeCommand({
            ClientId: this.options.clientId,
            Username: fields.email ?? '',
          }),
        )
        .then(
          () => ({ notice: 'A new code was sent.' }),
          (error: Error) => ({ error: error.message }),
        );
      return html(res, 200, confirmPage(params, fields.email ?? '', fields.session ?? '', sent));
    }
    try {
      await this.options.cognito.send(
        new ConfirmSignUpCommand({
          ClientId: this.options.clientId,
          Username: fields.email ?? '',
          ConfirmationCode: (fields.code ?? '').trim(),
        }),
      );
    } catch (error) {
      return html(
        res,
        200,
        confirmPage(params, fields.email ?? '', fields.session ?? '', {
          error: (error as Error).message,
        }),
      );
    }
    // Managed Login signs the person in right after the confirmation code, in the same session.
    const signUp = this.signUps.get(fields.session ?? '');
    this.signUps.delete(fields.session ?? '');
    const notice = 'Your account is confirmed and your organisation is being set up.';
    if (!signUp || signUp.until <= Date.now() || signUp.email !== (fields.email ?? '')) {
      return html(res, 200, signInPage(params, { notice: `${notice} Sign in.` }));
    }
    await this.signedIn(res, params, signUp.sub, notice);
  }

  private async token(res: ServerResponse, fields: FlowParams): Promise<void> {
    const fail = (status: number, error: string, description: string) =>
      json(res, status, { error, error_description: description });
    if (fields.client_id !== this.options.clientId)
      return fail(401, 'invalid_client', 'Unknown client.');
    if (fields.resource !== undefined && !this.options.resourceServers.includes(fields.resource)) {
      return fail(400, 'invalid_grant', 'invalid_resource');
    }

    if (fields.grant_type === 'authorization_code') {
      const grant = this.codes.get(fields.code ?? '');
      if (!grant || grant.used || grant.expiresAt <= Date.now()) {
        // A code presented twice revokes what it produced the first time (RFC 6749 4.1.2).
        if (grant?.refreshToken) this.refreshTokens.delete(grant.refreshToken);
        return fail(
          400,
          'invalid_grant',
          'The authorization code is invalid, expired or already used.',
        );
      }
      grant.used = true;
      if (grant.clientId !== fields.client_id || grant.redirectUri !== fields.redirect_uri) {
        return fail(
          400,
          'invalid_grant',
          'The redirect URI or client does not match the authorization request.',
        );
      }
      const verifier = fields.code_verifier ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== grant.challenge) {
        return fail(400, 'invalid_grant', 'The PKCE code verifier does not match the challenge.');
      }
      grant.refreshToken = await this.issue(
        res,
        grant.sub,
        grant.scope,
        'TokenGeneration_HostedAuth',
      );
      return;
    }

    if (fields.grant_type === 'refresh_token') {
      const refresh = this.refreshTokens.get(fields.refresh_token ?? '');
      if (!refresh || refresh.clientId !== fields.client_id) {
        return fail(400, 'invalid_grant', 'The refresh token is invalid.');
      }
      if (!(await this.options.refreshable(refresh.sub, refresh.issuedAt))) {
        this.refreshTokens.delete(fields.refresh_token as string);
        return fail(400, 'invalid_grant', 'Refresh Token has been revoked');
      }
      // Rotation: a refresh token works once, as with Cognito's rotation enabled; a refresh
      // that issued nothing (the pre-token trigger refused) leaves it as it was.
      const issued = await this.issue(
        res,
        refresh.sub,
        refresh.scope,
        'TokenGeneration_RefreshTokens',
      );
      if (issued) this.refreshTokens.delete(fields.refresh_token as string);
      return;
    }
    return fail(
      400,
      'unsupported_grant_type',
      'Only authorization_code and refresh_token are supported.',
    );
  }

  /** Answers with tokens and a new refresh token (returned), or with invalid_grant. */
  private async issue(
    res: ServerResponse,
    sub: string,
    scope: string,
    triggerSource: 'TokenGeneration_HostedAuth' | 'TokenGeneration_RefreshTokens',
  ): Promise<string | undefined> {
    const result = await this.options.tokens.issue({
      sub,
      triggerSource,
      clientId: this.options.clientId,
      scope,
      expiresIn: this.options.accessTokenTtlSeconds ?? 3600,
    });
    if (!result.ok) {
      json(res, 400, { error: 'invalid_grant', error_description: result.description });
      return undefined;
    }
    const refreshToken = randomBytes(32).toString('base64url');
    this.refreshTokens.set(refreshToken, {
      sub,
      clientId: this.options.clientId,
      scope,
      issuedAt: Date.now(),
    });
    json(res, 200, { ...result.tokens, refresh_token: refreshToken, scope });
    return refreshToken;
  }
}

function pick(fields: FlowParams): FlowParams {
  return Object.fromEntries(
    FLOW_PARAMS.filter((k) => fields[k] !== undefined).map((k) => [k, fields[k] as string]),
  );
}

function cors(headers: Record<string, string> = {}): Record<string, string> {
  return { 'access-control-allow-origin': '*', ...headers };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, cors({ 'content-type': 'application/json', 'cache-control': 'no-store' }));
  res.end(JSON.stringify(body));
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-frame-options': 'DENY',
  });
  res.end(body);
}

/** The largest form body kept; a larger one is refused (413) and dropped, as a service would. */
export const MAX_FORM_BYTES = 16 * 1024;

export class BodyTooLarge extends Error {}

/** A urlencoded form body, read up to MAX_FORM_BYTES (BodyTooLarge beyond). */
export async function form(req: IncomingMessage): Promise<FlowParams> {
  return Object.fromEntries(new URLSearchParams(await boundedBody(req, MAX_FORM_BYTES)));
}

/**
 * A request body as text, refusing (BodyTooLarge) one longer than `limit` bytes. Past the
 * limit nothing more is kept, and the request is left open for the caller to answer on (an
 * async iterator would destroy it, and the client would see a reset, not the answer): the
 * caller must then drain or destroy it (local/auth-server.ts refuseTooLarge).
 */
export function boundedBody(req: IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
