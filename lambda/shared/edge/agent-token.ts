import * as z from 'zod';
import { AgentIdSchema, agentClientId, ToolNameSchema } from '../registry/agents.js';
import { TENANT_CLAIMS, TenantIdSchema } from '../tenancy/tenant.js';

/**
 * The access tokens the platform signs itself (the authorization façade's token endpoint), as
 * opposed to the Cognito access tokens people get: an agent's client credentials token, and a
 * token a person's delegation made for an agent (RFC 8693 token exchange). Both are JWT access
 * tokens in the RFC 9068 profile: `typ: at+jwt`, `aud` the MCP resource, `client_id` the
 * agent, scope `tool:<name>` per tool granted, and at most AGENT_TOKEN_TTL_SECONDS long.
 */

/** Lifetime of a platform access token: at most 15 minutes. */
export const AGENT_TOKEN_TTL_SECONDS = 900;
/** RFC 9068 `typ` of a JWT access token: a webhook credential (`JWT`) is never one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** The claim naming the agent's credential generation (rotation kills older tokens). */
export const AGENT_CLAIMS = { agentId: 'agent_id', generation: 'agent_gen' } as const;

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE_URN = 'urn:ietf:params:oauth:token-type:access_token';

const TOOL_SCOPE_PREFIX = 'tool:';

/** `tool:<name>` for each tool. */
export function toolScopes(tools: readonly string[]): string[] {
  return tools.map((tool) => `${TOOL_SCOPE_PREFIX}${tool}`);
}

/** The tool names a space-separated scope grants (anything else in it is ignored). */
export function toolsOfScope(scope: string): string[] {
  return scope
    .split(' ')
    .filter((item) => item.startsWith(TOOL_SCOPE_PREFIX))
    .map((item) => item.slice(TOOL_SCOPE_PREFIX.length))
    .filter((tool) => ToolNameSchema.safeParse(tool).success);
}

/** What a verified platform access token must carry, beyond what the verifier checked. */
export const PlatformTokenClaimsSchema = z.object({
  /** The agent's client id, or (delegation) the person's Cognito `sub`. */
  sub: z.string().min(1).max(128),
  client_id: z.string().min(1).max(128),
  scope: z.string().max(4096),
  [TENANT_CLAIMS.tenantId]: TenantIdSchema,
  [AGENT_CLAIMS.agentId]: AgentIdSchema,
  [AGENT_CLAIMS.generation]: z.number().int().min(1),
  /** RFC 8693 actor: present exactly when a person delegated to the agent. */
  act: z
    .object({ sub: z.string().min(1).max(128) })
    .strict()
    .optional(),
});
export type PlatformTokenClaims = z.infer<typeof PlatformTokenClaimsSchema>;

/**
 * Whether a platform token names its agent consistently: `client_id` is the agent's client id
 * (`<tenant>.<agent id>` of its own claims), and so is the subject of its own token, or the
 * actor of a delegation.
 */
export function agentClaimsAgree(claims: PlatformTokenClaims): boolean {
  const clientId = agentClientId(claims[TENANT_CLAIMS.tenantId], claims[AGENT_CLAIMS.agentId]);
  return claims.client_id === clientId && (claims.act ? claims.act.sub : claims.sub) === clientId;
}
