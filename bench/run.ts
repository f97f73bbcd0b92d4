/**
 * `npm run bench`: figures of the local stack, measured in one run on this machine (not part
 * of the tests: shared machines are noisy, so ratios from one run are what to compare).
 *
 * - Warm latency of `tools/call notes_get` through the local gateway (authorizer with cached
 *   result, scoped credentials, decryption) against the baseline server doing the same
 *   dynalite read with no tenancy: p50, p95 and their ratio.
 * - AWS calls per 1,000 tool calls spread over 10 tenants, counted at the stand-ins, after
 *   each tenant's first call (which assumes its role and gets its first data key).
 * - Throughput at 16 calls in flight, and the memory of the gateway process and the baseline.
 * - A noisy neighbour (bench/noisy-neighbour.ts): one tenant's latency while another floods.
 * - Each Lambda's bundle size and cold start (bench/cold-start.ts), the MCP handler's first
 *   answer against the baseline's.
 *
 * Prints a table and writes `.bench/results.json`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TierName } from '../lambda/shared/fair-use/tiers.js';
import { createDocumentClient } from '../lambda/shared/platform/aws-clients.js';
import { TenantRegistry } from '../lambda/shared/registry/registry.js';
import { startHarness } from '../local/harness.js';
import { meteringSettled } from '../local/metering-settled.js';
import { PROJECT_ROOT, startLocalProcess } from '../local/process.js';
import { addMember, seedTenant } from '../local/seed.js';
import { measureColdStarts } from './cold-start.js';
import { measureNoisyNeighbour } from './noisy-neighbour.js';
import { type BenchResults, formatReport, type Latency } from './report.js';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const TENANTS = 10;
const CALLS = 1_000;
const LATENCY_SAMPLES = 500;
const CONCURRENCY = 16;
const THROUGHPUT_CALLS = 2_000;
const NOISY_TIER: TierName = 'standard';

// The Lambdas run on Node 24; this toolchain's Node 20 warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const harness = await startHarness({ logLevel: 'SILENT', mintTokens: true });
const stopAll: Array<() => Promise<void>> = [() => harness.stop()];
try {
  Object.assign(process.env, harness.env);
  const registry = new TenantRegistry(
    createDocumentClient(),
    harness.env.REGISTRY_TABLE_NAME as string,
  );

  const mint = async (sub: string) =>
    (
      (await (
        await fetch(`${harness.issuerUrl}/local/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sub }),
        })
      ).json()) as { access_token: string }
    ).access_token;
  // Tenants with an admin, a token and one note each.
  const seed = async (name: string, tier: TierName) => {
    const tenantId = `bench-${name}-${Date.now().toString(36)}`;
    const { sub } = await seedTenant(registry, {
      tenantId,
      name: `Bench ${name}`,
      tier,
      adminEmail: `admin@${tenantId}.example`,
    });
    const access_token = await mint(sub);
    const created = await callTool(`${harness.gatewayUrl}/mcp`, access_token, 'notes_create', {
      title: 'bench',
      body: 'x'.repeat(500),
    });
    return { tenantId, sub, token: access_token, noteId: String(created.structuredContent?.id) };
  };
  /** A tenant of the noisy-neighbour tier with `users` users, and a token for each. */
  const noisyTenant = async (name: string, users: number) => {
    const tenant = await seed(name, NOISY_TIER);
    const tokens = [tenant.token];
    for (let i = 1; i < users; i++) {
      const sub = await addMember(
        registry,
        tenant.tenantId,
        `user${i}@${tenant.tenantId}.example`,
        'member',
      );
      tokens.push(await mint(sub));
    }
    return { tokens, noteId: tenant.noteId };
  };
  const tenants: Array<Awaited<ReturnType<typeof seed>>> = [];
  for (let i = 0; i < TENANTS; i++) tenants.push(await seed(String(i), 'premium'));

  // The baseline server reads the same item of the first tenant: straight from dynalite, and
  // through the AWS stand-in, the extra local hop the gateway path takes (on AWS, IAM is
  // evaluated inside DynamoDB, not by a proxy).
  const first = tenants[0] as (typeof tenants)[number];
  const startBaseline = async (dynamodbUrl: string) => {
    const proc = await startLocalProcess('bench/baseline-server.ts', [
      '--dynamodb',
      dynamodbUrl,
      '--table',
      harness.env.DATA_TABLE_NAME as string,
    ]);
    stopAll.push(() => proc.stop());
    const get = () =>
      callTool(`http://127.0.0.1:${proc.port}/mcp`, '', 'notes_get', {
        tenantId: first.tenantId,
        id: first.noteId,
      });
    return { pid: proc.pid, get };
  };
  const baseline = await startBaseline(harness.dynamodbUrl);
  const baselineHop = await startBaseline(harness.awsUrl);

  // Interleaved, so a slow moment of this shared machine falls on all three alike.
  const [gatewayLatency, baselineLatency, baselineHopLatency] = await latencies([
    () => callTool(`${harness.gatewayUrl}/mcp`, first.token, 'notes_get', { id: first.noteId }),
    baseline.get,
    baselineHop.get,
  ]);

  // AWS calls for 1,000 tool calls over ten tenants (half reads, half writes).
  await fetch(`${harness.awsUrl}/__stand-in/stats`, { method: 'POST' });
  for (let i = 0; i < CALLS; i++) {
    const tenant = tenants[i % TENANTS] as (typeof tenants)[number];
    await (i % 2 === 0
      ? callTool(`${harness.gatewayUrl}/mcp`, tenant.token, 'notes_get', { id: tenant.noteId })
      : callTool(`${harness.gatewayUrl}/mcp`, tenant.token, 'notes_create', {
          title: 't',
          body: 'b',
        }));
  }
  // Metering happens off the request path: wait until the metering function has counted
  // these calls (its writes belong in the figure).
  await meteringSettled(harness.awsUrl, Number.POSITIVE_INFINITY);
  const stats = (await (await fetch(`${harness.awsUrl}/__stand-in/stats`)).json()) as Record<
    string,
    number
  >;
  const sum = (prefix: string) =>
    Object.entries(stats)
      .filter(([key]) => key.startsWith(prefix) && key.split(':').length === 2)
      .reduce((total, [, n]) => total + n, 0);
  const registryReads = stats[`dynamodb:GetItem:${harness.env.REGISTRY_TABLE_NAME}`] ?? 0;

  // Throughput at a fixed concurrency over the ten tenants, and the memory of the process that
  // runs the authorizer and the MCP handler (the local gateway) once it has served them.
  // The gateway's URL carries the stage (`/v1`): match on the port.
  const gatewayProcess = harness.processes.find(
    (proc) => String(proc.port) === new URL(harness.gatewayUrl).port,
  );
  const gatewayThroughput = await throughput((i) => {
    const tenant = tenants[i % TENANTS] as (typeof tenants)[number];
    return callTool(`${harness.gatewayUrl}/mcp`, tenant.token, 'notes_get', { id: tenant.noteId });
  });
  const baselineThroughput = await throughput(baseline.get);
  const gatewayMemory = gatewayProcess ? await memoryOf(gatewayProcess.pid) : undefined;
  const baselineMemory = await memoryOf(baseline.pid);

  // A noisy neighbour: two tenants of one tier, one flooding while the other calls steadily.
  const noisy = await measureNoisyNeighbour(
    harness.gatewayUrl,
    NOISY_TIER,
    await noisyTenant('flooder', 1),
    await noisyTenant('steady', 3),
  );

  const coldStarts = await measureColdStarts(harness.env, first);

  const results: BenchResults = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    date: new Date().toISOString(),
    warmLatencyMs: {
      gateway: gatewayLatency,
      baseline: baselineLatency,
      ratioP50: round(gatewayLatency.p50 / baselineLatency.p50),
      ratioP95: round(gatewayLatency.p95 / baselineLatency.p95),
      baselineThroughStandIn: baselineHopLatency,
      ratioP50ThroughStandIn: round(gatewayLatency.p50 / baselineHopLatency.p50),
    },
    awsCallsPer1000ToolCallsOver10Tenants: {
      stsAssumeRole: stats['sts:AssumeRole'] ?? 0,
      kms: sum('kms:'),
      secretsManager: sum('secretsmanager:'),
      registryReads,
      usageTableCalls: Object.entries(stats)
        .filter(([key]) => key.endsWith(`:${harness.env.USAGE_TABLE_NAME}`))
        .reduce((total, [, n]) => total + n, 0),
      meteringTransactions:
        stats[`dynamodb:TransactWriteItems:${harness.env.USAGE_TABLE_NAME}`] ?? 0,
      meteringItemsWritten: stats['dynamodb:TransactWriteItems:items'] ?? 0,
      dataTableCalls: Object.entries(stats)
        .filter(([key]) => key.endsWith(`:${harness.env.DATA_TABLE_NAME}`))
        .reduce((total, [, n]) => total + n, 0),
    },
    throughputPerSecondAtConcurrency16: {
      gateway: gatewayThroughput,
      baseline: baselineThroughput,
      ratio: round(baselineThroughput / gatewayThroughput),
    },
    memoryMiB: { gateway: gatewayMemory, baseline: baselineMemory },
    noisyNeighbour: noisy,
    coldStarts,
  };

  await mkdir(join(PROJECT_ROOT, '.bench'), { recursive: true });
  await writeFile(
    join(PROJECT_ROOT, '.bench', 'results.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  process.stdout.write(formatReport(results, { CALLS, TENANTS, CONCURRENCY, THROUGHPUT_CALLS }));
} finally {
  for (const stop of stopAll.reverse()) await stop();
}

async function callTool(url: string, token: string, name: string, args: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: args, _meta: ENVELOPE },
    }),
  });
  const body = (await response.json()) as {
    result?: { structuredContent?: Record<string, unknown>; isError?: boolean };
    error?: unknown;
  };
  if (!response.ok || body.error || body.result?.isError) {
    throw new Error(`${name} failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  return body.result ?? {};
}

/** p50 and p95 of each call, sampled in turn (one of each per round) after a warm-up. */
async function latencies(calls: ReadonlyArray<() => Promise<unknown>>) {
  for (let i = 0; i < 30; i++) for (const call of calls) await call();
  const samples = calls.map(() => [] as number[]);
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    for (const [n, call] of calls.entries()) {
      const start = performance.now();
      await call();
      samples[n]?.push(performance.now() - start);
    }
  }
  return samples.map((times) => {
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      round(times[Math.min(times.length - 1, Math.floor(q * times.length))] as number);
    return { p50: at(0.5), p95: at(0.95), samples: times.length };
  }) as [Latency, Latency, Latency];
}

/** Calls per second with CONCURRENCY calls in flight, after a warm-up of every tenant. */
async function throughput(call: (i: number) => Promise<unknown>) {
  for (let i = 0; i < TENANTS * 3; i++) await call(i);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < THROUGHPUT_CALLS) await call(next++);
    }),
  );
  return Math.round(THROUGHPUT_CALLS / ((performance.now() - start) / 1000));
}

/** Resident and peak resident memory of a local process, from /proc (Linux). */
async function memoryOf(pid: number) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
