import { McpServer } from '@modelcontextprotocol/server';
import { SERVICE_NAME } from '../shared/platform/service.js';
import { TenantContextSchema } from '../shared/tenancy/context.js';
import type { TenantScope, TenantScopes } from '../shared/tenancy/scope.js';
import type { ServerFactory } from './endpoint.js';
import { servedTo } from './features/index.js';

export const SERVER_INFO = { name: SERVICE_NAME, version: '0.1.0' } as const;

/**
 * The endpoint's server factory: the tenant context serveMcpRequest took from the authorizer
 * (and put in `authInfo.extra.tenant`) becomes the request's tenant scope, and the scope a
 * server. The context is parsed again here rather than trusted as a cast.
 */
export function serverFactory(scopes: TenantScopes): ServerFactory {
  return (authInfo) =>
    buildMcpServer(scopes.forRequest(TenantContextSchema.parse(authInfo?.extra?.tenant)));
}

/**
 * Builds the MCP server for one request, for one caller: only the tools, resources and prompts
 * the tenant's tier and the user's role allow, each bound to the caller's tenant scope.
 * Nothing is shared between requests, so there is no session state to leak from one tenant
 * to another.
 */
export function buildMcpServer(scope: TenantScope): McpServer {
  const served = servedTo(scope.context);
  const server = new McpServer(SERVER_INFO, {
    // The lists never change during a request, so there is nothing to notify: with these off,
    // `subscriptions/listen` is acknowledged and closed at once instead of held open.
    capabilities: {
      tools: { listChanged: false },
      resources: { listChanged: false },
      prompts: { listChanged: false },
    },
    instructions:
      "Notes and tasks of the user's organisation. Every tool acts inside that organisation only.",
  });
  const tools = {
    tools: served.tools.map((tool) => tool.name),
    // An agent is never more than a member of the tenant's tier.
    grantable: servedTo({ tier: scope.context.tier, role: 'member' }).tools,
  };
  for (const tool of served.tools) tool.register(server, scope, tools);
  for (const resource of served.resources) resource.register(server, scope);
  for (const prompt of served.prompts) prompt.register(server);
  return server;
}
