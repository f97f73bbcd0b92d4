import { randomUUID } from 'node:crypto';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MCP_PATH } from '../../lambda/shared/edge/oauth-metadata.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { proxyEvent } from '../../local/proxy-event.js';
import { createAgent, exchange } from '../support/agents.js';
import { accessToken, seedTenant, type TestUser } from '../support/mcp.js';

// The real handlers in this process, logging at INFO with metrics on, their stdout captured.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
delete process.env.POWERTOOLS_METRICS_DISABLED;
type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
let authorizer: Handler<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>;
let mcp: Handler<ReturnType<typeof proxyEvent>, APIGatewayProxyResult>;
let user: TestUser;
let token: string;
const lines: string[] = [];

beforeAll(async () => {
  authorizer = (await import('../../lambda/authorizer/index.js')).handler as typeof authorizer;
  mcp = (await import('../../lambda/mcp/index.js')).handler as typeof mcp;
  user = await seedTenant('observed');
  token = await accessToken(user);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
});
afterAll(() => vi.restoreAllMocks());

function parsedLines(): Array<Record<string, unknown>> {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

async function callTool(name: string, args: Record<string, unknown>) {
  return send(
    Buffer.from(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name, arguments: args },
      }),
    ),
  );
}

/** One request through the authorizer and the MCP handler, with extra headers if given. */
async function send(body: Buffer, headers: string[] = ['Mcp-Protocol-Version', '2025-06-18']) {
  const api = new URL(process.env.API_BASE_URL as string);
  const policy = await authorizer(
    {
      type: 'TOKEN',
      authorizationToken: `Bearer ${token}`,
      methodArn: `arn:aws:execute-api:us-east-1:000000000000:local/v1/POST${MCP_PATH}`,
    },
    lambdaContext('authorizer'),
  );
  const event = proxyEvent(
    {
      method: 'POST',
      url: new URL(MCP_PATH, api),
      rawHeaders: [
        ...['Host', api.host, 'Content-Type', 'application/json'],
        ...['Accept', 'application/json, text/event-stream', ...headers],
        ...['Authorization', `Bearer ${token}`],
      ],
      body,
      sourceIp: '127.0.0.1',
    },
    MCP_PATH,
    { ...policy.context, principalId: policy.principalId },
  );
  const result = await mcp(event, lambdaContext('mcp'));
  return { event, result };
}

describe('observability of a real request', () => {
  it('logs who, what, how long and how it ended, with no token, user id, e-mail or note body', async () => {
    const marker = `secret-body-${randomUUID()}`;
    const { event, result } = await callTool('notes_create', { title: 'observed', body: marker });
    const logged = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const served = logged.find((l) => l.message === 'MCP request answered');

    expect(result.statusCode).toBe(200);
    expect(served).toMatchObject({
      level: 'INFO',
      service: 'multi-tenant-mcp',
      tenantId: user.tenantId,
      tier: 'standard',
      user: expect.stringMatching(/^u_[\w-]{22}$/),
      correlation_id: event.requestContext.requestId,
      mcpMethod: 'tools/call',
      mcpProtocolVersion: '2025-06-18',
      tool: 'notes_create',
      durationMs: expect.any(Number),
      status: 200,
      outcome: 'ok',
    });
    // The authorizer's lines name the same pseudonym, never the sub.
    expect(logged.find((l) => l.message === 'Allowed')?.user).toBe(served?.user);
    const everything = lines.join('\n');
    for (const forbidden of [
      token,
      token.split('.')[2] ?? token,
      user.sub,
      `admin@${user.tenantId}.example`,
      marker,
    ]) {
      expect(everything).not.toContain(forbidden);
    }
  });

  it('counts the call by tier and tool in CloudWatch metrics, never by tenant', async () => {
    lines.length = 0;
    await callTool('whoami', {});
    const emf = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => '_aws' in l);
    const toolCall = emf.find((l) => 'ToolCall' in l);

    expect(toolCall).toMatchObject({ ToolCall: 1, tier: 'standard', tool: 'whoami' });
    const aws = toolCall?._aws as
      | { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> }
      | undefined;
    expect(aws?.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'MultiTenantMcp',
      Dimensions: [['service', 'tier', 'tool']],
    });
    expect(emf.map((l) => JSON.stringify(l)).join('\n')).not.toContain(user.tenantId);
  });

  it('writes one usage record per served call, for the metering subscription', async () => {
    lines.length = 0;
    await callTool('whoami', {});
    await callTool('notes_get', { id: 42 }); // refused by the SDK before the tool runs
    const records = lines.filter((line) => line.includes('"record":"mcp-usage/1"'));

    expect(records).toHaveLength(1);
    expect(JSON.parse(records[0] as string)).toMatchObject({
      record: 'mcp-usage/1',
      tenantId: user.tenantId,
      name: 'whoami',
      outcome: 'ok',
      durationMs: expect.any(Number),
      time: expect.any(Number),
    });
  });

  it('names both the person (pseudonymised) and the agent of a delegated call, in the logs and the usage record', async () => {
    const agent = await createAgent(user, { tools: ['whoami'] });
    const person = token;
    lines.length = 0;
    await callTool('whoami', {});
    const personLine = parsedLines().find((l) => l.message === 'MCP request answered');
    token = String((await exchange(agent, person)).body.access_token);
    lines.length = 0;
    try {
      expect((await callTool('whoami', {})).result.statusCode).toBe(200);
    } finally {
      token = person;
    }
    const served = parsedLines().find((l) => l.message === 'MCP request answered');
    const record = parsedLines().find((l) => l.record === 'mcp-usage/1');

    expect(served).toMatchObject({ user: personLine?.user, agentId: agent.agentId });
    expect(record).toMatchObject({ user: personLine?.user, agentId: agent.agentId });
    expect(lines.join('\n')).not.toContain(user.sub);
  });

  it('keeps client-chosen strings short in every line: a huge Mcp-Name, a huge refused body', async () => {
    lines.length = 0;
    const long = 'x'.repeat(5_000);
    const modern = await send(
      Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name: 'whoami',
            arguments: {},
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      ),
      ['Mcp-Protocol-Version', '2026-07-28', 'Mcp-Method', 'tools/call', 'Mcp-Name', long],
    );
    const garbage = await send(Buffer.from(`[${long}`));

    expect(modern.result.statusCode).toBe(400);
    expect(garbage.result.statusCode).toBe(400);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain('x'.repeat(300));
      expect(line.length).toBeLessThan(2_000);
    }
  });
});
