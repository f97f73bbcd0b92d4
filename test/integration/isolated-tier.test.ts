import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { TENANT_ID_HEADER } from '../../lambda/shared/edge/execution-tenant.js';
import { MCP_PATH } from '../../lambda/shared/edge/oauth-metadata.js';
import { executionTenantOf } from '../../lambda/shared/fair-use/tiers.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { MCP_LOG_GROUP } from '../../local/log-streams.js';
import { PROJECT_ROOT } from '../../local/process.js';
import { proxyEvent } from '../../local/proxy-event.js';
import {
  accessToken,
  callTool,
  mintTokens,
  postMcp,
  seedTenant,
  type TestUser,
} from '../support/mcp.js';
import { stats } from '../support/stand-in.js';

/**
 * The isolated tier on the local stack, observed the way an operator observes it on AWS: each
 * execution environment writes to a log stream of its own in the MCP function's log group, so
 * the streams whose lines name a tenant are the environments that served it (FilterLogEvents).
 */
const logs = new CloudWatchLogsClient({});

async function events(input: { filterPattern?: string; logStreamNames?: string[] }) {
  const found: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({ logGroupName: MCP_LOG_GROUP, ...input, nextToken }),
    );
    found.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}

/** The tenant's lines (its usage and audit records), once at least `count` have arrived. */
async function linesOf(tenantId: string, count: number): Promise<FilteredLogEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = await events({ filterPattern: `{ $.tenantId = "${tenantId}" }` });
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The environments (log streams) whose lines name the tenant. */
const environmentsOf = async (tenantId: string, lines: number) =>
  new Set((await linesOf(tenantId, lines)).map((event) => event.logStreamName as string));

/** Every tenant an environment's lines name. */
async function tenantsServedBy(logStream: string): Promise<Set<string>> {
  const tenants = new Set<string>();
  for (const event of await events({ logStreamNames: [logStream] })) {
    try {
      const { tenantId } = JSON.parse(event.message as string) as { tenantId?: unknown };
      if (typeof tenantId === 'string') tenants.add(tenantId);
    } catch {
      // not a JSON line: names no tenant
    }
  }
  return tenants;
}

/** One tool call: its usage record and its audit record both name the tenant (two lines). */
const whoami = async (token: string) => {
  const { reply } = await callTool(token, 'whoami');
  expect(reply.status).toBe(200);
};
const LINES_PER_CALL = 2;

const only = <T>(set: Set<T>): T => {
  expect(set.size).toBe(1);
  return [...set][0] as T;
};

const secretReads = async () => (await stats())['secretsmanager:GetSecretValue'] ?? 0;
const assumedRoles = async () => (await stats())['sts:AssumeRole'] ?? 0;
/** A call whose audit record names a member: it needs the pseudonym key, cached per environment. */
const namingAMember = async (token: string) => {
  const { reply } = await callTool(token, 'tenant_users_set_role', {
    userId: 'no-such-member',
    role: 'member',
  });
  expect(reply.status).toBe(200);
};

describe('isolated tier: an execution environment per premium tenant', () => {
  let premium: [TestUser, TestUser];
  let pooled: [TestUser, TestUser];
  const tokens = new Map<string, string>();
  const token = (user: TestUser) => tokens.get(user.tenantId) as string;

  beforeAll(async () => {
    premium = [
      await seedTenant('isolated-a', { tier: 'premium' }),
      await seedTenant('isolated-b', { tier: 'premium' }),
    ];
    pooled = [await seedTenant('pooled-a'), await seedTenant('pooled-b')];
    for (const user of [...premium, ...pooled]) tokens.set(user.tenantId, await accessToken(user));
  }, 60_000);

  it("keeps module state apart between premium tenants' environments and shares a pool's", async () => {
    // The pseudonym key is loaded once per environment (module scope) by the first call that
    // names a member: a fresh premium tenant's environment has never loaded it.
    const loads: number[] = [];
    for (const user of [...premium, ...pooled]) {
      const before = await secretReads();
      await namingAMember(token(user));
      loads.push((await secretReads()) - before);
    }

    expect(loads.slice(0, 2)).toEqual([1, 1]);
    // The pool may have loaded it for an earlier tenant; after the first pooled call, surely.
    expect(loads[2]).toBeLessThanOrEqual(1);
    expect(loads[3]).toBe(0);
  });

  it('runs each premium tenant in environments that serve no other tenant', async () => {
    for (const user of premium) for (let i = 0; i < 3; i++) await whoami(token(user));

    const [a, b] = premium;
    // One call naming a member and three whoami each.
    const streamA = only(await environmentsOf(a.tenantId, 4 * LINES_PER_CALL));
    const streamB = only(await environmentsOf(b.tenantId, 4 * LINES_PER_CALL));

    expect(streamA).not.toBe(streamB);
    expect(streamA).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(await tenantsServedBy(streamA)).toEqual(new Set([a.tenantId]));
    expect(await tenantsServedBy(streamB)).toEqual(new Set([b.tenantId]));
  });

  it("runs a pooled tier's tenants in the environment they share", async () => {
    for (const user of pooled) for (let i = 0; i < 3; i++) await whoami(token(user));

    const [a, b] = pooled;
    const stream = only(await environmentsOf(a.tenantId, 4 * LINES_PER_CALL));

    expect(only(await environmentsOf(b.tenantId, 4 * LINES_PER_CALL))).toBe(stream);
    const served = await tenantsServedBy(stream);
    expect(served.has(a.tenantId) && served.has(b.tenantId)).toBe(true);
    for (const user of premium) expect(served.has(user.tenantId)).toBe(false);
  });

  it('gives a client no say in the environment: a tenant id header of its own changes nothing', async () => {
    const [victim] = premium;
    const [attacker] = pooled;
    const victimStream = only(await environmentsOf(victim.tenantId, 1));
    const poolStream = only(await environmentsOf(attacker.tenantId, 1));
    const before = (await linesOf(attacker.tenantId, 1)).length;

    const reply = await postMcp(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
      {
        authorization: `Bearer ${token(attacker)}`,
        'mcp-protocol-version': '2025-06-18',
        [TENANT_ID_HEADER]: executionTenantOf(victim.tenantId, 'premium'),
        'x-tenant-id': victim.tenantId,
      },
    );

    expect(reply.status).toBe(200);
    expect(JSON.stringify(reply.json())).toContain(attacker.tenantId);
    expect(only(await environmentsOf(attacker.tenantId, before + LINES_PER_CALL))).toBe(poolStream);
    expect(await tenantsServedBy(victimStream)).toEqual(new Set([victim.tenantId]));
  });
});

describe('isolated tier: moving up', () => {
  it("moves a tenant's next requests into an environment of its own when it becomes premium", async () => {
    const mover = await seedTenant('mover');
    const before = await accessToken(mover);
    await whoami(before);
    await whoami(before);
    const poolStream = only(await environmentsOf(mover.tenantId, 2 * LINES_PER_CALL));
    // Its scoped credentials are cached in the pool's environment: no new AssumeRole.
    const warm = await assumedRoles();
    await whoami(before);
    const assumedInPool = (await assumedRoles()) - warm;

    await operatorCli('tier', mover.tenantId, 'premium');
    await new Promise((resolve) =>
      setTimeout(resolve, inject('authorizerCacheTtlSeconds') * 1000 + 200),
    );
    const after = (await mintTokens(mover.sub)).access_token;
    const cold = await assumedRoles();
    await whoami(after);
    const assumedInOwn = (await assumedRoles()) - cold;
    await whoami(after);

    const streams = await environmentsOf(mover.tenantId, 5 * LINES_PER_CALL);
    const own = [...streams].filter((stream) => stream !== poolStream);
    expect(streams.has(poolStream)).toBe(true);
    expect(own).toHaveLength(1);
    expect(await tenantsServedBy(own[0] as string)).toEqual(new Set([mover.tenantId]));
    // Nothing of the pool's module state came along: the new environment assumes the role anew.
    expect(assumedInPool).toBe(0);
    expect(assumedInOwn).toBe(1);
  }, 60_000);
});

describe('the MCP handler behind a mis-mapped integration', () => {
  type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
  let authorizer: Handler<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>;
  let mcp: Handler<ReturnType<typeof proxyEvent>, APIGatewayProxyResult>;

  beforeAll(async () => {
    authorizer = (await import('../../lambda/authorizer/index.js')).handler as typeof authorizer;
    mcp = (await import('../../lambda/mcp/index.js')).handler as typeof mcp;
    // The handlers' records go to this process's stdout here: kept out of the test output.
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterAll(() => vi.restoreAllMocks());

  /** The real handler, invoked as Lambda would with `tenantId` as the invoke's tenant id. */
  const invoke = async (user: TestUser, tenantId: string) => {
    const token = await accessToken(user);
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
          ...['Accept', 'application/json, text/event-stream'],
          ...['Mcp-Protocol-Version', '2025-06-18', 'Authorization', `Bearer ${token}`],
        ],
        body: Buffer.from(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'whoami', arguments: {} },
          }),
        ),
        sourceIp: '127.0.0.1',
      },
      MCP_PATH,
      { ...policy.context, principalId: policy.principalId },
    );
    return mcp(event, lambdaContext('mcp', undefined, { tenantId }));
  };

  it("refuses to serve a tenant in another tenant's environment, and serves it in its own", async () => {
    const user = await seedTenant('misrouted', { tier: 'premium' });

    const foreign = await invoke(user, executionTenantOf('someone-else', 'premium'));
    const pool = await invoke(user, executionTenantOf(user.tenantId, 'standard'));
    const own = await invoke(user, executionTenantOf(user.tenantId, 'premium'));

    for (const refused of [foreign, pool]) {
      expect(refused.statusCode).toBe(500);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { message: 'Internal error.' } });
      expect(refused.body).not.toContain(user.tenantId);
    }
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain(user.tenantId);
  });
});

/** The operator CLI, as an operator runs it against the (local) stack. */
async function operatorCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'cli/tenant.ts', ...args],
    { cwd: PROJECT_ROOT, env: process.env },
  );
  return stdout;
}
