import * as z from 'zod';
import { AGENT_TOKEN_TTL_SECONDS } from '../../../shared/edge/agent-token.js';
import { ValidationError } from '../../../shared/platform/errors.js';
import {
  AGENTS_PER_TENANT,
  AgentAccessSchema,
  AgentIdSchema,
  AgentNameSchema,
  type AgentView,
  MAX_AGENT_TOOLS,
  ToolNameSchema,
} from '../../../shared/registry/agents.js';
import { defineTool, type Feature, type ServedTools } from '../feature.js';

const AgentSchema = z.object({
  agentId: z.string(),
  clientId: z.string(),
  name: z.string(),
  tools: z.array(z.string()),
  access: AgentAccessSchema,
  generation: z.number(),
  createdAt: z.string(),
  rotatedAt: z.string().optional(),
});

const CredentialsSchema = z.object({
  agent: AgentSchema,
  clientSecret: z.string(),
  tokenEndpoint: z.string(),
  howTo: z.string(),
});

const agentOut = ({ tenantId: _tenant, ...agent }: AgentView) => agent;

/** What an admin gets once, at creation and at rotation: the secret and how to use it. */
function credentials(
  { agent, clientSecret }: { agent: AgentView; clientSecret: string },
  tokenEndpoint: string,
) {
  return {
    agent: agentOut(agent),
    clientSecret,
    tokenEndpoint,
    howTo: `Shown once: store the secret now. POST grant_type=client_credentials to ${tokenEndpoint} with HTTP Basic authentication (client id and secret) for a token of ${AGENT_TOKEN_TTL_SECONDS / 60} minutes, then call the MCP endpoint with it as a Bearer token.`,
  };
}

/**
 * Checks an allowlist against what a member of the caller's tier may call: an agent is never
 * more than a member, never an admin, and a read-only agent only gets read-only tools.
 */
export function checkAgentTools(
  tools: readonly string[],
  access: 'read' | 'write',
  served: Pick<ServedTools, 'grantable'>,
): void {
  const byName = new Map(served.grantable.map((tool) => [tool.name, tool]));
  const refused = tools.filter((name) => {
    const tool = byName.get(name);
    return !tool || (access === 'read' && !tool.readOnly);
  });
  if (refused.length > 0) {
    throw new ValidationError(
      `Not available to an agent with ${access} access on your tier: ${refused.join(', ')}.`,
    );
  }
}

const agentsCreate = defineTool({
  name: 'agents_create',
  requiredRole: 'admin',
  title: 'Create an agent',
  description: `Creates an agent: an OAuth client of your organisation for an unattended caller (a job, a bot, a backend), limited to the tools you list, read-only or read-write. Returns its client id and secret (shown once). At most ${AGENTS_PER_TENANT} agents. Admins only.`,
  inputSchema: z.object({
    name: AgentNameSchema,
    tools: z.array(ToolNameSchema).min(1).max(MAX_AGENT_TOOLS),
    access: AgentAccessSchema.default('read'),
  }),
  outputSchema: CredentialsSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async ({ name, tools, access }, scope, served) => {
    checkAgentTools(tools, access, served);
    const created = await scope.directory.createAgent({ name, tools, access }, scope.context.sub);
    scope.logger.info('Agent created', { agentId: created.agent.agentId, access });
    return credentials(created, scope.links.tokenEndpoint);
  },
});

const agentsList = defineTool({
  name: 'agents_list',
  requiredRole: 'admin',
  title: 'List agents',
  description:
    "Lists your organisation's agents, their tools and access (never a secret). Admins only.",
  inputSchema: z.object({}),
  outputSchema: z.object({ agents: z.array(AgentSchema) }),
  annotations: { readOnlyHint: true },
  run: async (_input, scope) => ({ agents: (await scope.directory.agents()).map(agentOut) }),
});

const agentsRotate = defineTool({
  name: 'agents_rotate',
  requiredRole: 'admin',
  title: "Rotate an agent's secret",
  description:
    'Gives an agent a new client secret (shown once). The old secret, and every token got with it, stop working at once. Admins only.',
  inputSchema: z.object({ agentId: AgentIdSchema }),
  outputSchema: CredentialsSchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: async ({ agentId }, scope) => {
    const rotated = await scope.directory.rotateAgent(agentId);
    scope.logger.info('Agent secret rotated', { agentId, generation: rotated.agent.generation });
    return credentials(rotated, scope.links.tokenEndpoint);
  },
});

const agentsRevoke = defineTool({
  name: 'agents_revoke',
  requiredRole: 'admin',
  title: 'Revoke an agent',
  description:
    'Deletes an agent: it gets no new token, and its tokens (and any delegation to it) stop working within a minute. Admins only.',
  inputSchema: z.object({ agentId: AgentIdSchema }),
  outputSchema: z.object({ revoked: z.literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  run: async ({ agentId }, scope) => {
    await scope.directory.revokeAgent(agentId);
    scope.logger.info('Agent revoked', { agentId });
    return { revoked: true as const };
  },
});

/** Tenant admins manage their organisation's agents (lambda/shared/registry/agents.ts). */
export const agents: Feature = {
  name: 'agents',
  tools: [agentsCreate, agentsList, agentsRotate, agentsRevoke],
};
