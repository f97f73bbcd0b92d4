import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { budgetKey, monthOf } from '../../lambda/shared/fair-use/monthly-budget.js';
import { TIERS } from '../../lambda/shared/fair-use/tiers.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { PROJECT_ROOT } from '../../local/process.js';
import {
  accessToken,
  addMember,
  callTool,
  connect,
  postMcp,
  seedTenant,
  toolOutput,
} from '../support/mcp.js';
import { clearFaults, injectFault, stats } from '../support/stand-in.js';

const db = createDocumentClient();
const usageTable = process.env.USAGE_TABLE_NAME as string;

const call = async (token: string, name: string, args: Record<string, unknown> = {}, id = 7) =>
  (await callTool(token, name, args, { id })).reply;

describe('fair use through the MCP endpoint', () => {
  it("throttles a flooding tenant at its own usage plan's burst, as API Gateway does, and not its neighbour", async () => {
    // A dedicated tier: each tenant's own API key in the plan (the pooled free tier is throttled
    // per tenant by the MCP function: test/security/pooled-tier-attacks.test.ts).
    const flooder = await seedTenant('flooder', { tier: 'standard' });
    const neighbour = await seedTenant('neighbour', { tier: 'standard' });
    const [floodToken, neighbourToken] = await Promise.all([
      accessToken(flooder),
      accessToken(neighbour),
    ]);
    const { burstLimit: burst, rateLimit } = TIERS.standard.throttle;

    const started = Date.now();
    const [flood, calm] = await Promise.all([
      Promise.all(Array.from({ length: burst * 3 }, (_, i) => call(floodToken, 'whoami', {}, i))),
      Promise.all(Array.from({ length: 3 }, (_, i) => call(neighbourToken, 'whoami', {}, i))),
    ]);
    // The bucket refills at the plan's rate while the flood is in flight: on a busy machine the
    // flood takes longer, and that many more calls are rightly served.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * rateLimit);

    const throttled = flood.filter((r) => r.status === 429);
    expect(flood.filter((r) => r.status === 200).length).toBeLessThanOrEqual(burst + refilled);
    expect(throttled.length).toBeGreaterThanOrEqual(burst * 2 - refilled);
    expect(throttled[0]?.json()).toEqual({ message: 'Too Many Requests' });
    expect(throttled[0]?.headers.get('retry-after')).toBe('1');
    expect(calm.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it("answers 429 with Retry-After once a user's window is full, and spares a colleague", async () => {
    const owner = await seedTenant('rate-owner', { tier: 'free' });
    const colleague = await addMember(owner.tenantId, 'member');
    const limit = TIERS.free.perUser;
    const token = await accessToken(owner);
    // One environment (the local gateway) counts the window exactly: the request after the
    // limit is refused. Should the window turn meanwhile, the next one fills up the same way.
    // Paced under the free tier's 5 requests a second per tenant, so that limit does not answer
    // first.
    let refused = await call(token, 'whoami');
    for (let i = 0; i < 2 * limit.requests + 1 && refused.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      refused = await call(token, 'whoami');
    }
    const spared = await call(await accessToken(colleague), 'whoami');

    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2 * limit.windowSeconds);
    expect(refused.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32000, message: expect.stringMatching(/^Too many requests from this user/) },
    });
    expect(refused.text).not.toContain(owner.tenantId);
    expect(spared.status).toBe(200);
  }, 60_000);

  it('refuses tool calls once the monthly budget is spent, but still lists tools', async () => {
    const tenant = await seedTenant('budget', { tier: 'free' });
    await db.send(
      new PutCommand({
        TableName: usageTable,
        Item: {
          ...budgetKey(tenant.tenantId, monthOf(Date.now())),
          calls: TIERS.free.monthlyToolCalls,
        },
      }),
    );
    const token = await accessToken(tenant);

    const refused = await call(token, 'whoami');
    const listed = await postMcp(
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
    );

    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.stringify(refused.json())).toMatch(/monthly tool-call budget/);
    expect(listed.status).toBe(200);
  });

  it('lets calls through when the usage table cannot be reached (the usage plan still bounds them)', async () => {
    const tenant = await seedTenant('unmetered-outage', { tier: 'free' });
    const token = await accessToken(tenant);
    // Every counter update fails (the SDK retries each three times); reads still work. A free
    // user's window is written every 7 requests, so the 7th and 8th try and fail.
    await injectFault('dynamodb:UpdateItem', { times: 100, when: 'before' });
    try {
      const served = [];
      for (let i = 0; i < 8; i++) served.push(await call(token, 'whoami'));
      const failed = (await stats())['fault:dynamodb:UpdateItem'] ?? 0;

      for (const reply of served) {
        expect(reply.status).toBe(200);
        expect((reply.json() as { result?: { isError?: boolean } }).result?.isError).toBeFalsy();
      }
      expect(failed).toBeGreaterThanOrEqual(3);
    } finally {
      await clearFaults();
    }
  });

  it("meters each tenant's calls per tool, shows them in usage_report and the CLI, and no one else's", async () => {
    const acme = await seedTenant('metered');
    const globex = await seedTenant('unmetered');
    const client = await connect(await accessToken(acme), 'modern');
    await Promise.all([
      ...Array.from({ length: 3 }, (_, i) =>
        client.callTool({ name: 'notes_create', arguments: { title: `n${i}`, body: 'b' } }),
      ),
      ...Array.from({ length: 2 }, () => client.callTool({ name: 'whoami', arguments: {} })),
      client.callTool({ name: 'notes_get', arguments: { id: 'nope' } }),
    ]);
    // Metering is the usage records the MCP function logs, counted by the metering function a
    // moment later: wait for them.
    const report = await eventually(async () => {
      const output = toolOutput(await client.callTool({ name: 'usage_report', arguments: {} }));
      return (output.totals as { calls: number }).calls >= 5 ? output : undefined;
    });
    await client.close();
    const other = await connect(await accessToken(globex), 'modern');
    const otherReport = toolOutput(
      await other.callTool({ name: 'usage_report', arguments: { tenantId: acme.tenantId } }),
    );
    await other.close();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/tenant.ts', 'usage', acme.tenantId],
      { cwd: PROJECT_ROOT, env: process.env },
    );

    const byTool = Object.fromEntries(
      (report.days as Array<{ tool: string; calls: number }>).map((d) => [d.tool, d]),
    );
    expect(byTool.notes_create?.calls).toBe(3);
    expect(byTool.whoami?.calls).toBe(2);
    // Arguments the SDK refuses (isError before the tool runs) are not a served call.
    expect(byTool.notes_get).toBeUndefined();
    expect(otherReport.totals).toMatchObject({ calls: 0 });
    expect(JSON.stringify(otherReport)).not.toContain('notes_create');
    expect(stdout).toMatch(/notes_create\s+3 calls/);
    // The usage_report calls made while waiting were served and metered too.
    expect(stdout).toMatch(/This month's budget: \d+ of/);
  });
});

/** Polls until `probe` returns a value (metering lands a second or so after the calls). */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('not metered in time');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
