import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import * as z from 'zod';
import { writeAuditRecord } from '../shared/audit/audit-record.js';
import { type AccessTokenVerifier, isTokenRejection } from '../shared/edge/access-token.js';
import {
  AGENT_CLAIMS,
  agentClaimsAgree,
  type PlatformTokenClaims,
  PlatformTokenClaimsSchema,
  toolsOfScope,
} from '../shared/edge/agent-token.js';
import { executionTenantOf, TIERS, type TierName } from '../shared/fair-use/tiers.js';
import { errorFields } from '../shared/platform/observability.js';
import type { Pseudonyms } from '../shared/platform/pseudonym.js';
import { type AgentRecord, type Agents, creatorStillMember } from '../shared/registry/agents.js';
import type { TenantRegistry } from '../shared/registry/registry.js';
import type { TenantContext } from '../shared/tenancy/context.js';
import { TENANT_CLAIMS, TenantIdSchema } from '../shared/tenancy/tenant.js';
import { tenantKeysOf } from '../shared/tenancy/tenant-keys.js';

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive). */
const BEARER_TOKEN = /^bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * The token is refused: API Gateway answers 401 (and our WWW-Authenticate challenge). API
 * Gateway recognises this outcome by the error message alone, which must be exactly
 * `Unauthorized`; this code recognises it by its class.
 */
export class TokenRefused extends Error {
  constructor() {
    super('Unauthorized');
    this.name = 'TokenRefused';
  }
}

/** The authorizer could not decide (keys or registry unreachable): API Gateway answers 500. */
export class AuthorizerUnavailable extends Error {
  constructor() {
    super('Authorizer unavailable');
    this.name = 'AuthorizerUnavailable';
  }
}

const TenantClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  client_id: z.string().min(1).max(128),
  [TENANT_CLAIMS.tenantId]: TenantIdSchema,
});

export interface AuthorizeDeps {
  readonly verifier: AccessTokenVerifier;
  /** The issuer of the platform's own tokens (agents, delegations): the façade's. */
  readonly platformIssuer: string;
  readonly registry: TenantRegistry;
  readonly agents: Agents;
  readonly logger: Logger;
  readonly pseudonyms: () => Promise<Pseudonyms>;
  /** The shared API key of each pooled tier (tiers.ts), whose usage plan caps the tier. */
  readonly poolApiKeys: Readonly<Partial<Record<TierName, string>>>;
}

/**
 * The Lambda (TOKEN) authorizer of `/mcp`: verifies the bearer access token, takes the tenant
 * from its verified claims only, and checks both the user's membership and the tenant in the
 * registry. Allows the request with the tenant context (tenant id, current tier and role,
 * user, client), denies it (403) for a user no longer in that tenant or a tenant that is
 * unknown or not active, and refuses it (401) for anything wrong with the token. No header
 * other than `Authorization` is read.
 *
 * A platform token (an agent's, or a person's delegation to an agent: the façade's issuer)
 * must name its agent consistently, and the agent must still exist with that credential
 * generation and a creator who is still a member (and, for a delegation, the person too): it
 * is served as a member limited to the tools its token and its current allowlist both grant.
 */
export async function authorize(
  event: APIGatewayTokenAuthorizerEvent,
  deps: AuthorizeDeps,
): Promise<APIGatewayAuthorizerResult> {
  const { verifier, registry, logger, pseudonyms } = deps;
  const token = BEARER_TOKEN.exec(event.authorizationToken ?? '')?.[1];
  if (!token) {
    logger.info('Refused: no bearer token');
    throw new TokenRefused();
  }

  let claims: z.infer<typeof TenantClaimsSchema>;
  let agentClaims: PlatformTokenClaims | undefined;
  try {
    const payload = await verifier.verify(token);
    const platform = payload.iss === deps.platformIssuer;
    const parsed = (platform ? PlatformTokenClaimsSchema : TenantClaimsSchema).safeParse(payload);
    if (!parsed.success) {
      logger.warn('Refused: verified token without valid tenant claims', {
        claims: parsed.error.issues.map((issue) => issue.path.join('.')),
      });
      throw new TokenRefused();
    }
    claims = parsed.data;
    if (platform) {
      agentClaims = parsed.data as PlatformTokenClaims;
      // The agent is the client, and either the subject (its own token) or the actor.
      if (!agentClaimsAgree(agentClaims)) {
        logger.warn('Refused: platform token whose agent claims disagree');
        throw new TokenRefused();
      }
    }
  } catch (error) {
    if (error instanceof TokenRefused) throw error;
    if (isTokenRejection(error)) {
      logger.info('Refused: token failed verification', { reason: (error as Error).name });
      throw new TokenRefused();
    }
    logger.error('Could not verify the token', errorFields(error));
    throw new AuthorizerUnavailable();
  }

  const tenantId = claims[TENANT_CLAIMS.tenantId];
  let user: string;
  try {
    user = (await pseudonyms()).of(claims.sub);
  } catch (error) {
    // The pseudonym is part of the context every request carries: no context without it.
    logger.error('Pseudonym key unavailable', errorFields(error));
    throw new AuthorizerUnavailable();
  }
  logger.appendKeys({ tenantId, user, clientId: claims.client_id });
  if (agentClaims) {
    logger.appendKeys({ agentId: agentClaims[AGENT_CLAIMS.agentId] });
  }
  // The registry, not the token, has the last word: a removed member, a demoted admin, a
  // revoked or rotated agent or a suspended tenant loses access within the authorizer cache
  // time, not at token expiry.
  const agentId = agentClaims?.[AGENT_CLAIMS.agentId];
  const [membership, tenant, agent] = await Promise.all([
    // An agent acting on its own is no member; one a person delegated to needs that person
    // still in the tenant.
    agentClaims && !agentClaims.act ? undefined : registry.getMembership(claims.sub),
    registry.getTenant(tenantId),
    agentId ? deps.agents.get(tenantId, agentId) : undefined,
  ]);
  // A denial names a tenant (the verified token's) and a person: it goes to that tenant's audit
  // trail as a refused attempt (once per token and cache time: API Gateway caches the Deny).
  const refuse = (reason: string) => {
    writeAuditRecord({
      tenantId,
      time: Date.now(),
      actor: { user, ...(agentId ? { agentId } : {}) },
      action: 'authorize',
      targets: [],
      outcome: 'refused',
      reason,
    });
    return policy(claims.sub, 'Deny', event.methodArn);
  };
  let agentGrant: Pick<TenantContext, 'agentId' | 'agentTools' | 'agentAccess'> = {};
  if (agentClaims) {
    const tools = agent ? agentToolsOf(agentClaims, agent) : [];
    if (
      !agent ||
      agent.generation !== agentClaims[AGENT_CLAIMS.generation] ||
      !tools.length ||
      !(await creatorStillMember(agent, registry))
    ) {
      logger.warn('Denied: agent revoked, rotated, narrowed, or its creator left', {
        agentState: agent ? 'CHANGED' : 'MISSING',
      });
      return refuse('agent-revoked');
    }
    agentGrant = { agentId: agent.agentId, agentTools: tools.join(' '), agentAccess: agent.access };
  }
  if ((!agentClaims || agentClaims.act) && membership?.tenantId !== tenantId) {
    logger.warn('Denied: user is not a member of the tenant in the token');
    return refuse('not-a-member');
  }
  if (tenant?.status !== 'ACTIVE') {
    logger.warn('Denied: tenant is not active', { tenantStatus: tenant?.status ?? 'MISSING' });
    return refuse('tenant-inactive');
  }
  // A dedicated tier's tenant: its own API key; a pooled tier's: the tier's shared one. API
  // Gateway meters and throttles the request against that key's usage plan. By the recorded
  // tier, which a tier change records together with the key's move (a tenant's own key is
  // in its new plan before the tier says so, and unused once it says otherwise).
  const usageKey =
    TIERS[tenant.tier].resources === 'dedicated'
      ? tenant.apiKeyValue
      : deps.poolApiKeys[tenant.tier];
  const keys = tenantKeysOf(tenant);
  if (!usageKey || !keys) {
    logger.error('Denied: active tenant without its API key or its keys (provisioning incomplete)');
    return refuse('tenant-incomplete');
  }

  const context: TenantContext = {
    tenantId,
    // The registry's tier and role, not the token's: changes apply without a new token. An
    // agent, and a person's delegation to one, is a member limited to the agent's tools.
    tier: tenant.tier,
    role: agentClaims ? 'member' : (membership?.role ?? 'member'),
    sub: claims.sub,
    user,
    clientId: claims.client_id,
    ...keys,
    executionTenant: executionTenantOf(tenant.tenantId, tenant.tier),
    ...agentGrant,
  };
  logger.info('Allowed', { tier: context.tier, role: context.role });
  return {
    ...policy(claims.sub, 'Allow', event.methodArn),
    // The pseudonym also reaches API Gateway's access log, which never sees the sub.
    context,
    usageIdentifierKey: usageKey,
  };
}

/**
 * The tools a platform token may call now: those its scope grants that the agent's current
 * allowlist still holds (an admin may have narrowed it since the token was issued).
 */
function agentToolsOf(claims: PlatformTokenClaims, agent: AgentRecord): string[] {
  const allowed = new Set(agent.tools);
  return toolsOfScope(claims.scope).filter((tool) => allowed.has(tool));
}

/**
 * A policy for every method on `/mcp` of this stage: the result is cached per token, and the
 * same token may next call another method of the same resource.
 */
function policy(principalId: string, effect: 'Allow' | 'Deny', methodArn: string) {
  // arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<method>/<resource path>
  const [apiArn, stage] = methodArn.split('/');
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: effect, Resource: `${apiArn}/${stage}/*/mcp` },
      ],
    },
  };
}
