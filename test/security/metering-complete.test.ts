import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayOf, UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TenantRegistry } from '../../lambda/shared/registry/registry.js';
import { type Harness, startHarness } from '../../local/harness.js';
import { meteringSettled } from '../../local/metering-settled.js';
import { seedTenant } from '../../local/seed.js';

// Metering survives the end of an environment: the gateway process, which runs the MCP
// handler, is killed (SIGKILL) in the middle of a run, as Lambda recycles an environment, and
// every call a client saw served is metered; a call the handler served whose answer was lost
// with the process may be metered too. This file runs a local stack of its own, so it can kill
// that stack's gateway without disturbing the other tests.
let harness: Harness;
const saved = { ...process.env };

beforeAll(async () => {
  harness = await startHarness({ logLevel: 'SILENT', mintTokens: true });
  Object.assign(process.env, harness.env);
}, 60_000);

afterAll(async () => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
  await harness?.stop();
});

async function call(token: string, id: number): Promise<'served' | 'failed'> {
  try {
    const response = await fetch(`${harness.gatewayUrl}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'whoami', arguments: {} },
      }),
    });
    const body = (await response.json()) as { result?: { isError?: boolean } };
    return response.ok && body.result && !body.result.isError ? 'served' : 'failed';
  } catch {
    return 'failed';
  }
}

describe('metering when an environment is recycled mid-run', () => {
  it('meters every served call, however the handler process ended', async () => {
    const registry = new TenantRegistry(
      createDocumentClient(),
      harness.env.REGISTRY_TABLE_NAME as string,
    );
    const tenantId = `recycled-${Date.now().toString(36)}`;
    const { sub } = await seedTenant(registry, {
      tenantId,
      name: 'Recycled',
      tier: 'premium',
      adminEmail: `admin@${tenantId}.example`,
    });
    const mint = await fetch(`${harness.issuerUrl}/local/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub }),
    });
    const token = ((await mint.json()) as { access_token: string }).access_token;

    const IN_FLIGHT = 8;
    const outcomes: Array<'served' | 'failed'> = [];
    let next = 0;
    const run = (until: number) =>
      Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < until) outcomes.push(await call(token, next++));
        }),
      );
    // Calls in flight when the process is killed: some end as network errors.
    const firstRun = run(400);
    while (outcomes.filter((o) => o === 'served').length < 150) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await harness.restartGateway();
    await firstRun;
    await run(500);
    await meteringSettled(harness.awsUrl, 20_000);

    const served = outcomes.filter((o) => o === 'served').length;
    const failed = outcomes.filter((o) => o === 'failed').length;
    const today = dayOf(Date.now());
    const rows = await new UsageMeter(
      createDocumentClient(),
      harness.env.USAGE_TABLE_NAME as string,
    ).report(tenantId, today, today);
    const metered = rows.reduce((n, row) => n + row.calls, 0);

    expect(failed).toBeGreaterThan(0);
    expect(served).toBeGreaterThanOrEqual(150);
    // Every call a client saw served is metered; at most the calls in flight at the kill were
    // served by the handler without their answer reaching the client.
    expect(metered).toBeGreaterThanOrEqual(served);
    expect(metered).toBeLessThanOrEqual(served + IN_FLIGHT);
  }, 120_000);
});
