import type { measureColdStarts } from './cold-start.js';
import type { measureNoisyNeighbour } from './noisy-neighbour.js';

export interface Latency {
  p50: number;
  p95: number;
  samples: number;
}

/** What `npm run bench` writes to .bench/results.json. */
export interface BenchResults {
  machine: { cpus: number; node: string };
  date: string;
  warmLatencyMs: {
    gateway: Latency;
    baseline: Latency;
    ratioP50: number;
    ratioP95: number;
    baselineThroughStandIn: Latency;
    ratioP50ThroughStandIn: number;
  };
  awsCallsPer1000ToolCallsOver10Tenants: {
    stsAssumeRole: number;
    kms: number;
    secretsManager: number;
    registryReads: number;
    usageTableCalls: number;
    /** Of those, the metering function's transactions, and the items they wrote. */
    meteringTransactions: number;
    meteringItemsWritten: number;
    dataTableCalls: number;
  };
  throughputPerSecondAtConcurrency16: { gateway: number; baseline: number; ratio: number };
  memoryMiB: {
    gateway: { rss: number; peak: number } | undefined;
    baseline: { rss: number; peak: number };
  };
  noisyNeighbour: Awaited<ReturnType<typeof measureNoisyNeighbour>>;
  coldStarts: Awaited<ReturnType<typeof measureColdStarts>>;
}

/** The table `npm run bench` prints, from the figures it writes to .bench/results.json. */
export function formatReport(
  r: BenchResults,
  { CALLS, TENANTS, CONCURRENCY, THROUGHPUT_CALLS }: Record<string, number>,
): string {
  const row = (name: string, value: string) => `  ${name.padEnd(48)} ${value}\n`;
  return (
    `\nBenchmark (${r.machine.cpus} cores, Node ${r.machine.node}, ${r.date})\n\n` +
    row(
      'notes_get p50 / p95, gateway (ms)',
      `${r.warmLatencyMs.gateway.p50} / ${r.warmLatencyMs.gateway.p95}`,
    ) +
    row(
      'notes_get p50 / p95, baseline (ms)',
      `${r.warmLatencyMs.baseline.p50} / ${r.warmLatencyMs.baseline.p95}`,
    ) +
    row(
      'notes_get p50 / p95, baseline via stand-in (ms)',
      `${r.warmLatencyMs.baselineThroughStandIn.p50} / ${r.warmLatencyMs.baselineThroughStandIn.p95}`,
    ) +
    row(
      'multi-tenancy overhead, p50 / p95 (ratio)',
      `${r.warmLatencyMs.ratioP50}x / ${r.warmLatencyMs.ratioP95}x`,
    ) +
    row(
      'overhead p50, baseline via stand-in (ratio)',
      `${r.warmLatencyMs.ratioP50ThroughStandIn}x`,
    ) +
    `\n  After each tenant's first call, per ${CALLS} tool calls over ${TENANTS} tenants:\n` +
    row(
      `STS AssumeRole per ${CALLS} calls, ${TENANTS} tenants`,
      String(r.awsCallsPer1000ToolCallsOver10Tenants.stsAssumeRole),
    ) +
    row(
      `KMS calls per ${CALLS} calls, ${TENANTS} tenants`,
      String(r.awsCallsPer1000ToolCallsOver10Tenants.kms),
    ) +
    row(
      `Secrets Manager calls per ${CALLS} calls`,
      String(r.awsCallsPer1000ToolCallsOver10Tenants.secretsManager),
    ) +
    row(
      `Registry reads per ${CALLS} calls (authorizer)`,
      String(r.awsCallsPer1000ToolCallsOver10Tenants.registryReads),
    ) +
    row(
      `Tenant data table calls per ${CALLS} calls`,
      String(r.awsCallsPer1000ToolCallsOver10Tenants.dataTableCalls),
    ) +
    row(
      `Usage table calls per ${CALLS} calls (limits, metering)`,
      String(r.awsCallsPer1000ToolCallsOver10Tenants.usageTableCalls),
    ) +
    row(
      '  of which metering transactions (items written)',
      `${r.awsCallsPer1000ToolCallsOver10Tenants.meteringTransactions} (${r.awsCallsPer1000ToolCallsOver10Tenants.meteringItemsWritten})`,
    ) +
    `\n  notes_get at concurrency ${CONCURRENCY}, ${THROUGHPUT_CALLS} calls over ${TENANTS} tenants:\n` +
    row(
      'throughput, gateway / baseline (calls/s)',
      `${r.throughputPerSecondAtConcurrency16.gateway} / ${r.throughputPerSecondAtConcurrency16.baseline}`,
    ) +
    row(
      'memory RSS / peak, gateway (MiB)',
      r.memoryMiB.gateway
        ? `${r.memoryMiB.gateway.rss} / ${r.memoryMiB.gateway.peak}`
        : 'not found',
    ) +
    row(
      'memory RSS / peak, baseline (MiB)',
      `${r.memoryMiB.baseline.rss} / ${r.memoryMiB.baseline.peak}`,
    ) +
    `\n  Noisy neighbour (${r.noisyNeighbour.tier} tier): B calls ${r.noisyNeighbour.bCallsPerSecond}/s while A sends ${r.noisyNeighbour.aRequestsPerSecond}/s:\n` +
    row(
      'B p50 / p95 alone (ms)',
      `${r.noisyNeighbour.bAlone.p50} / ${r.noisyNeighbour.bAlone.p95}`,
    ) +
    row(
      'B p50 / p95 during the flood (ms)',
      `${r.noisyNeighbour.bDuringFlood.p50} / ${r.noisyNeighbour.bDuringFlood.p95}`,
    ) +
    row(
      'B during / alone, p50 / p95 (ratio)',
      `${r.noisyNeighbour.ratioP50}x / ${r.noisyNeighbour.ratioP95}x`,
    ) +
    row(
      "A's requests: served / usage plan 429 / per-user 429",
      `${r.noisyNeighbour.aServed} / ${r.noisyNeighbour.aThrottledByUsagePlan} / ${r.noisyNeighbour.aRefusedPerUser} of ${r.noisyNeighbour.aRequests}`,
    ) +
    row("A's share of 429s", `${Math.round(r.noisyNeighbour.a429Share * 100)}%`) +
    `\n  Lambda bundles (esbuild as in the CDK app), cold start in a fresh process, median of 5:\n` +
    row('', 'size, import, import + first answer') +
    r.coldStarts.rows
      .map((b) =>
        row(
          b.name,
          `${b.sizeKiB} KiB, ${b.importMs} ms${b.firstAnswerMs === undefined ? '' : `, ${b.firstAnswerMs} ms`}`,
        ),
      )
      .join('') +
    row(
      'cold first answer, mcp / baseline (ratio)',
      `${r.coldStarts.mcpToBaselineFirstAnswerRatio}x`,
    ) +
    `\nWritten to .bench/results.json\n`
  );
}
