import { Logger } from '@aws-lambda-powertools/logger';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMcpEndpoint } from '../../lambda/mcp/endpoint.js';
import type { Notes } from '../../lambda/mcp/notes.js';
import { buildMcpServer } from '../../lambda/mcp/server.js';
import type { OwnTenant } from '../../lambda/shared/registry/directory.js';

const SECRET = 'never-print-me-0123456789';

/** The MCP server in process, with a DEBUG logger whose output is captured. */
function serverWith(stored: Map<string, string>, lines: string[]) {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  const endpoint = createMcpEndpoint(
    () =>
      buildMcpServer({
        context: {
          tenantId: 'acme',
          tier: 'premium',
          role: 'admin',
          sub: 'u1',
          user: 'u_AAAAAAAAAAAAAAAAAAAAAA',
          clientId: 'c',
          kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k',
        },
        notes: {} as Notes,
        tenant: {} as OwnTenant,
        invitationLink: (code) => `https://example.com/v1/invitations?code=${code}`,
        secrets: {
          get: async (name) => stored.get(name),
          put: async (name, value) => {
            logger.debug('storing a secret', { name });
            stored.set(name, value);
          },
        },
        usage: {
          report: async () => [],
          budgetSpent: async () => 0,
        },
        outbound: { allowLoopback: true },
        logger,
      }),
    { maxRequestBodySize: 65_536 },
  );
  return async (args: Record<string, unknown>) => {
    const client = new Client(
      { name: 't', version: '1' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL('http://127.0.0.1:1/mcp'), {
        fetch: (url, init) =>
          endpoint(
            new Request(url, init),
            { token: '', clientId: 'c', scopes: [] },
            JSON.parse(String(init?.body)),
          ),
      }),
    );
    const result = await client.callTool({ name: 'integrations_set', arguments: args });
    await client.close();
    return result;
  };
}

describe('integration secrets', () => {
  afterEach(() => vi.restoreAllMocks());

  it('stores the signing secret but never returns or logs it, on success or refusal', async () => {
    const stored = new Map<string, string>();
    const lines: string[] = [];
    const setIntegration = serverWith(stored, lines);

    const ok = await setIntegration({
      webhookUrl: 'http://127.0.0.1:9/hook',
      signingSecret: SECRET,
    });
    const refused = await setIntegration({
      webhookUrl: 'http://10.0.0.1/hook',
      signingSecret: SECRET,
    });

    expect(stored.get('webhook')).toContain(SECRET);
    expect(JSON.stringify(ok)).not.toContain(SECRET);
    expect(JSON.stringify(refused)).not.toContain(SECRET);
    expect(refused.isError).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(SECRET);
  });
});
