import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpEndpoint } from '../../lambda/mcp/endpoint.js';
import { buildMcpServer } from '../../lambda/mcp/server.js';
import type { TenantScope } from '../../lambda/shared/tenancy/scope.js';

/**
 * The MCP SDK's own client, connected in process to the server the MCP function builds for
 * `scope` (the same endpoint, server and features; no HTTP, no AWS). For unit tests of features.
 */
export async function featureClient(scope: TenantScope): Promise<Client> {
  const endpoint = createMcpEndpoint(() => buildMcpServer(scope), { maxRequestBodySize: 65_536 });
  const client = new Client(
    { name: 'unit', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL('http://127.0.0.1:1/mcp'), {
      fetch: (url, init) =>
        endpoint(
          new Request(url, init),
          { token: '', clientId: scope.context.clientId, scopes: [] },
          JSON.parse(String(init?.body)),
        ),
    }),
  );
  return client;
}

/** A tool's structured output, or the generic error text it answered. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) {
    const [first] = result.content as Array<{ text?: string }>;
    return { error: first?.text ?? '' };
  }
  return result.structuredContent as Record<string, unknown>;
}

/**
 * Clients for one test file, each closed after every test: `connect(scope)` connects one.
 * @example
 * const clients = featureClients();
 * afterEach(clients.closeAll);
 */
export function featureClients() {
  const open: Client[] = [];
  return {
    connect: async (scope: TenantScope) => {
      const client = await featureClient(scope);
      open.push(client);
      return client;
    },
    closeAll: async () => {
      await Promise.all(open.splice(0).map((client) => client.close()));
    },
  };
}
