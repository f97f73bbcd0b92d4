import { randomUUID } from 'node:crypto';
import {
  type AccessTokenVerifier,
  createPlatformTokenVerifier,
  isTokenRejection,
} from '../shared/edge/access-token.js';
import {
  ACCESS_TOKEN_TYP,
  ACCESS_TOKEN_TYPE_URN,
  AGENT_CLAIMS,
  AGENT_TOKEN_TTL_SECONDS,
  agentClaimsAgree,
  type PlatformTokenClaims,
  PlatformTokenClaimsSchema,
  TOKEN_EXCHANGE_GRANT,
  toolScopes,
  toolsOfScope,
} from '../shared/edge/agent-token.js';
import type { JwtSigner } from '../shared/edge/jwt-signer.js';
import {
  type AgentRecord,
  type Agents,
  agentClientId,
  creatorStillMember,
} from '../shared/registry/agents.js';
import type { TenantRegistry } from '../shared/registry/registry.js';
import { TENANT_CLAIMS, TenantIdSchema } from '../shared/tenancy/tenant.js';
import { FacadeEndpoint, type FacadeOptions } from './endpoint.js';
import { type FacadeResponse, json } from './http.js';
import { OAuthError, OAuthRetryLater } from './oauth-error.js';
import { digest } from './secrets.js';

/** What the façade needs to serve agents: their registry, the signer, people's tokens. */
export interface AgentGrantOptions {
  readonly agents: Agents;
  readonly registry: TenantRegistry;
  readonly signer: JwtSigner;
  /** Other keys of the platform whose public halves the JWKS lists (webhook credentials). */
  readonly published?: readonly Pick<JwtSigner, 'jwks'>[];
  /** Verifies a person's (Cognito) access token: the subject of a token exchange. */
  readonly subjectTokens: AccessTokenVerifier;
  /** Failed client authentications allowed per client id and source address, in a window. */
  readonly failureLimits?: { perClient: number; windowSeconds: number };
}

const DEFAULT_FAILURE_LIMITS = { perClient: 10, windowSeconds: 900 };
const BAD_CLIENT = 'Client authentication failed.';

/**
 * The grants agents use at the token endpoint, authenticated with `client_secret_basic`
 * (RFC 6749 2.3.1):
 * - `client_credentials` (RFC 6749 4.4): a token for the agent itself, with its allowlist;
 * - token exchange (RFC 8693): a person's access token as `subject_token` becomes a token for
 *   the agent acting for them (`act`), within the person's tenant and the agent's allowlist,
 *   and never longer than the person's token or AGENT_TOKEN_TTL_SECONDS.
 * Failed authentications are counted per client id and source address; past the limit the
 * client is refused from that address before its secret is checked, until the window passes.
 */
export class AgentGrants extends FacadeEndpoint {
  private readonly limits: NonNullable<AgentGrantOptions['failureLimits']>;
  /** The agents' own tokens, as actors: the access-token key only. */
  private readonly actorTokens: ReturnType<typeof createPlatformTokenVerifier>;

  constructor(
    options: FacadeOptions,
    private readonly grants: AgentGrantOptions,
  ) {
    super(options);
    this.limits = grants.failureLimits ?? DEFAULT_FAILURE_LIMITS;
    this.actorTokens = createPlatformTokenVerifier({
      issuer: this.urls.issuer,
      resource: this.resource,
      jwks: () => grants.signer.jwks(),
    });
  }

  async token(
    authorization: string,
    form: Record<string, string>,
    sourceIp: string,
  ): Promise<FacadeResponse> {
    const agent = await this.authenticate(authorization, form, sourceIp);
    this.checkTargets(form);
    if (form.grant_type === undefined) {
      throw new OAuthError('invalid_request', 'grant_type is required.');
    }
    if (form.grant_type === 'client_credentials') return this.clientCredentials(agent, form);
    if (form.grant_type === TOKEN_EXCHANGE_GRANT) return this.exchange(agent, form);
    throw new OAuthError(
      'unsupported_grant_type',
      'Agents may use client_credentials and token exchange only.',
    );
  }

  /** The agent a Basic header names, if its secret matches and its tenant is active. */
  private async authenticate(
    authorization: string,
    form: Record<string, string>,
    sourceIp: string,
  ): Promise<AgentRecord> {
    if (form.client_secret !== undefined || form.client_assertion !== undefined) {
      // One method per request (RFC 6749 2.3); only client_secret_basic is offered.
      throw new OAuthError('invalid_client', BAD_CLIENT, 400, 'unsupported client auth method');
    }
    const credentials = basicCredentials(authorization);
    if (!credentials) {
      throw new OAuthError('invalid_client', BAD_CLIENT, 400, 'malformed Basic credentials');
    }
    if (form.client_id !== undefined && form.client_id !== credentials.clientId) {
      throw new OAuthError('invalid_client', BAD_CLIENT, 400, 'client_id differs from Basic');
    }
    const agent = await this.admitted(credentials.clientId, sourceIp, () =>
      this.grants.agents.authenticate(credentials.clientId, credentials.clientSecret),
    );
    if (!agent) {
      throw new OAuthError('invalid_client', BAD_CLIENT, 400, 'unknown client or wrong secret');
    }
    if (!(await creatorStillMember(agent, this.grants.registry))) {
      throw new OAuthError('invalid_client', BAD_CLIENT, 400, "the agent's creator left");
    }
    const tenant = await this.grants.registry.getTenant(agent.tenantId);
    if (tenant?.status !== 'ACTIVE') {
      throw new OAuthError(
        'unauthorized_client',
        'This client may not get tokens now.',
        400,
        `tenant ${tenant?.status ?? 'MISSING'}`,
      );
    }
    return agent;
  }

  /**
   * Runs `authenticate` if this client id, from this source, has attempts left in the window
   * (and the one before, so failures straddling a boundary still add up). Every attempt takes
   * one atomically before the secret is checked, so parallel guesses cannot overrun the limit;
   * a success gives it back. Counted per client id and source together: whoever knows a client
   * id cannot lock the agent out from elsewhere, and no tenant's failures touch another's
   * agents behind the same address.
   */
  private async admitted(
    clientId: string,
    sourceIp: string,
    authenticate: () => Promise<AgentRecord | undefined>,
  ): Promise<AgentRecord | undefined> {
    const { windowSeconds, perClient } = this.limits;
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    // Hashed: the table keeps neither a client id an attacker made up nor an IP address.
    const key = (w: number) => `AGENTFAIL#${w}#${digest(`${clientId}\n${sourceIp}`).slice(0, 22)}`;
    const before = await this.options.store.count(key(window - 1));
    const admitted =
      before < perClient &&
      (await this.options.store.admit([
        { key: key(window), limit: perClient - before, ttlSeconds: windowSeconds * 2 },
      ]));
    if (!admitted) {
      this.options.logger.warn('Agent authentication refused: too many failures', {
        clientId: clientId.slice(0, 128),
      });
      // This window's attempts still count in the next one: the wait is the rest of this
      // window and the next (at most twice the window, never less than needed).
      throw new OAuthRetryLater(
        'Too many failed attempts. Try again later.',
        2 * windowSeconds - (Math.floor(Date.now() / 1000) % windowSeconds),
      );
    }
    let agent: AgentRecord | undefined;
    try {
      agent = await authenticate();
    } catch (error) {
      // The registry could not answer: no guess was checked, so none is counted.
      await this.options.store.increment(key(window), windowSeconds * 2, -1);
      throw error;
    }
    if (agent) await this.options.store.increment(key(window), windowSeconds * 2, -1);
    return agent;
  }

  private async clientCredentials(
    agent: AgentRecord,
    form: Record<string, string>,
  ): Promise<FacadeResponse> {
    const clientId = agentClientId(agent.tenantId, agent.agentId);
    const tools = this.requestedTools(agent.tools, form.scope);
    const now = Math.floor(Date.now() / 1000);
    return this.issue(agent, tools, now + AGENT_TOKEN_TTL_SECONDS, { sub: clientId });
  }

  /**
   * RFC 8693 with the agent as the authenticated client and actor: the subject must be a
   * person's access token from the user pool (never a platform token: a delegated token is not
   * exchanged again), of the agent's own tenant, whose owner is still a member there.
   */
  private async exchange(
    agent: AgentRecord,
    form: Record<string, string>,
  ): Promise<FacadeResponse> {
    if (form.actor_token !== undefined || form.actor_token_type !== undefined) {
      throw new OAuthError(
        'invalid_request',
        'The authenticated client is the actor: actor_token is not accepted.',
      );
    }
    return this.delegate(agent, agent.tools, form);
  }

  /**
   * RFC 8693 from the person's side, so the agent never holds the person's token: the person's
   * own (public) client sends its access token as `subject_token` and the agent's own access
   * token as `actor_token`, and hands the agent only the result. The actor token must be the
   * platform's, for an agent acting on its own (not a delegation), still valid, of a live agent
   * of an active tenant; the result has at most the actor token's tools.
   */
  async exchangeWithActor(form: Record<string, string>): Promise<FacadeResponse> {
    this.checkTargets(form);
    if (form.actor_token_type !== ACCESS_TOKEN_TYPE_URN || !form.actor_token) {
      throw new OAuthError(
        'invalid_request',
        'actor_token must be an access token (actor_token_type access_token).',
      );
    }
    const invalidActor = (detail: string) =>
      new OAuthError('invalid_grant', 'The actor token is not acceptable.', 400, detail);
    let claims: PlatformTokenClaims;
    try {
      const parsed = PlatformTokenClaimsSchema.safeParse(
        await this.actorTokens.verify(form.actor_token),
      );
      if (!parsed.success) throw invalidActor('actor token without agent claims');
      claims = parsed.data;
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      if (isTokenRejection(error)) throw invalidActor(`actor token: ${(error as Error).name}`);
      throw error;
    }
    const tenantId = claims[TENANT_CLAIMS.tenantId];
    if (claims.act || !agentClaimsAgree(claims)) {
      throw invalidActor('actor token is a delegation or names another agent');
    }
    const agent = await this.grants.agents.get(tenantId, claims[AGENT_CLAIMS.agentId]);
    if (
      !agent ||
      agent.generation !== claims[AGENT_CLAIMS.generation] ||
      !(await creatorStillMember(agent, this.grants.registry)) ||
      (await this.grants.registry.getTenant(tenantId))?.status !== 'ACTIVE'
    ) {
      throw invalidActor('agent revoked, rotated, left without its creator, or tenant inactive');
    }
    const granted = new Set(toolsOfScope(claims.scope));
    return this.delegate(
      agent,
      agent.tools.filter((tool) => granted.has(tool)),
      form,
    );
  }

  /** RFC 8707 `resource`, and RFC 8693 `audience`: only this server's MCP resource. */
  private checkTargets(form: Record<string, string>): void {
    for (const target of [form.resource, form.audience]) {
      if (target !== undefined && !this.isOurResource(target)) {
        throw new OAuthError('invalid_target', 'The requested resource is not served here.');
      }
    }
  }

  /**
   * The token of `agent` acting for the person whose access token is the subject, with at most
   * `allowed` tools.
   */
  private async delegate(
    agent: AgentRecord,
    allowed: readonly string[],
    form: Record<string, string>,
  ): Promise<FacadeResponse> {
    if (form.subject_token_type !== ACCESS_TOKEN_TYPE_URN || !form.subject_token) {
      throw new OAuthError(
        'invalid_request',
        'subject_token must be an access token (subject_token_type access_token).',
      );
    }
    if (
      form.requested_token_type !== undefined &&
      form.requested_token_type !== ACCESS_TOKEN_TYPE_URN
    ) {
      throw new OAuthError('invalid_request', 'Only access tokens can be requested.');
    }
    const invalidSubject = (detail: string) =>
      new OAuthError('invalid_grant', 'The subject token is not acceptable.', 400, detail);
    let subject: { sub: string; tenantId: string; exp: number };
    try {
      const payload = await this.grants.subjectTokens.verify(form.subject_token);
      const tenantId = TenantIdSchema.safeParse(payload[TENANT_CLAIMS.tenantId]);
      if (typeof payload.sub !== 'string' || !tenantId.success || typeof payload.exp !== 'number') {
        throw invalidSubject('subject token without tenant claims');
      }
      subject = { sub: payload.sub, tenantId: tenantId.data, exp: payload.exp };
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      if (isTokenRejection(error)) throw invalidSubject(`subject token: ${(error as Error).name}`);
      throw error;
    }
    if (subject.tenantId !== agent.tenantId) {
      this.options.logger.warn('Token exchange refused: subject of another tenant', {
        tenantId: agent.tenantId,
        agentId: agent.agentId,
      });
      throw invalidSubject('subject token of another tenant');
    }
    const membership = await this.grants.registry.getMembership(subject.sub);
    if (membership?.tenantId !== agent.tenantId) {
      throw invalidSubject('subject is no longer a member');
    }
    const tools = this.requestedTools(allowed, form.scope);
    if (tools.length === 0) throw invalidSubject('no tool left to delegate');
    const now = Math.floor(Date.now() / 1000);
    const exp = Math.min(now + AGENT_TOKEN_TTL_SECONDS, subject.exp);
    if (exp <= now) throw invalidSubject('subject token expired');
    return this.issue(agent, tools, exp, {
      sub: subject.sub,
      act: { sub: agentClientId(agent.tenantId, agent.agentId) },
    });
  }

  /**
   * The tools a request may have: all of the agent's, or those of `scope` (space-separated
   * `tool:<name>`), each of which the agent must have (RFC 6749 3.3: invalid_scope otherwise).
   */
  private requestedTools(allowed: readonly string[], scope: string | undefined): string[] {
    if (scope === undefined || scope.trim() === '') return [...allowed];
    const items = scope.split(' ').filter(Boolean);
    const tools = toolsOfScope(scope);
    const allowedSet = new Set(allowed);
    if (tools.length !== items.length || tools.some((tool) => !allowedSet.has(tool))) {
      throw new OAuthError('invalid_scope', 'The requested scope exceeds what this client holds.');
    }
    return [...new Set(tools)];
  }

  private async issue(
    agent: AgentRecord,
    tools: readonly string[],
    exp: number,
    subject: { sub: string; act?: { sub: string } },
  ): Promise<FacadeResponse> {
    const now = Math.floor(Date.now() / 1000);
    const scope = toolScopes(tools).join(' ');
    const accessToken = await this.grants.signer.sign(
      {
        iss: this.urls.issuer,
        ...subject,
        aud: this.resource,
        client_id: agentClientId(agent.tenantId, agent.agentId),
        scope,
        [TENANT_CLAIMS.tenantId]: agent.tenantId,
        [AGENT_CLAIMS.agentId]: agent.agentId,
        [AGENT_CLAIMS.generation]: agent.generation,
        iat: now,
        exp,
        jti: randomUUID(),
      },
      ACCESS_TOKEN_TYP,
    );
    this.options.logger.info('Agent token issued', {
      tenantId: agent.tenantId,
      agentId: agent.agentId,
      delegated: subject.act !== undefined,
      expiresIn: exp - now,
    });
    return json(
      200,
      {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: exp - now,
        scope,
        ...(subject.act ? { issued_token_type: ACCESS_TOKEN_TYPE_URN } : {}),
      },
      { pragma: 'no-cache' },
    );
  }
}

/**
 * `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 2.3.1, the form encoding of
 * Appendix B). Anything else is undefined.
 */
function basicCredentials(header: string): { clientId: string; clientSecret: string } | undefined {
  const match = /^basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!match?.[1] || match[1].length > 1024) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    const clientId = decode(decoded.slice(0, colon));
    const clientSecret = decode(decoded.slice(colon + 1));
    return clientId && clientSecret ? { clientId, clientSecret } : undefined;
  } catch {
    return undefined;
  }
}
