/**
 * `npm run cost -- --tenants 1000 --calls 1000000`: the monthly bill of the stack for a number
 * of tenants and tool calls, by service, beside one always-on container per tenant. Every
 * assumption is a flag (see DEFAULT_WORKLOAD); prices are in bench/cost-model.ts.
 */
import { parseArgs } from 'node:util';
import { type AgentWorkload, agentCost, DEFAULT_AGENT_WORKLOAD } from './agent-cost.js';
import { DEFAULT_WORKLOAD, monthlyCost, PRICES, type Workload } from './cost-model.js';

const FLAGS: Record<string, keyof Workload> = {
  tenants: 'tenants',
  calls: 'toolCallsPerMonth',
  'mcp-ms': 'mcpDurationMs',
  'mcp-mb': 'mcpMemoryMb',
  'authorizer-share': 'authorizerInvocationsPerCall',
  'write-share': 'writeShare',
  'usage-writes': 'usageWritesPerCall',
  'secrets-per-tenant': 'secretsPerTenant',
  'log-bytes': 'logBytesPerCall',
};

/** The agents section: `--agents 10000` and what a token renewal costs. */
const AGENT_FLAGS: Record<string, keyof AgentWorkload> = {
  agents: 'agents',
  'tokens-per-agent': 'tokensPerAgentMonth',
  'facade-ms': 'facadeMs',
  'cognito-client-fee': 'cognitoClientFee',
};

const { values } = parseArgs({
  options: Object.fromEntries(
    [...Object.keys(FLAGS), ...Object.keys(AGENT_FLAGS)].map((flag) => [flag, { type: 'string' }]),
  ),
});
const workload: Record<string, number> = { ...DEFAULT_WORKLOAD };
const agentWorkload: Record<string, number> = { ...DEFAULT_AGENT_WORKLOAD };
for (const [flag, key, target] of [
  ...Object.entries(FLAGS).map(([f, k]) => [f, k, workload] as const),
  ...Object.entries(AGENT_FLAGS).map(([f, k]) => [f, k, agentWorkload] as const),
]) {
  const raw = values[flag];
  if (typeof raw !== 'string') continue;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`--${flag} must be a number of 0 or more, got "${raw}"\n`);
    process.exit(2);
  }
  target[key] = value;
}
const w = workload as unknown as Workload;
const cost = monthlyCost(w);

const usd = (n: number) => `$${n < 10 ? n.toFixed(4) : n.toFixed(2)}`;
const row = (a: string, p: string, b: string, c: string) =>
  `  ${a.padEnd(50)} ${p.padStart(10)} ${b.padStart(12)} ${c.padStart(14)}\n`;
process.stdout.write(
  `\nMonthly cost, ${PRICES.region} list prices as of ${PRICES.readOn}, no free tier\n` +
    `${w.tenants} tenants, ${w.toolCallsPerMonth} tool calls a month, MCP Lambda ${w.mcpDurationMs} ms at ${w.mcpMemoryMb} MB (arm64)\n\n` +
    row('Service', 'platform', 'idle tenant', 'per 1M calls') +
    cost.lines
      .map((line) =>
        row(line.service, usd(line.platform), usd(line.perTenantIdle), usd(line.perMillionCalls)),
      )
      .join('') +
    row('Total', usd(cost.platform), usd(cost.idleTenant), usd(cost.perMillionCalls)) +
    `\n  This stack: ${usd(cost.monthly)} a month, ${usd(cost.perTenant)} per tenant\n` +
    `  One Fargate task per tenant (${w.containerVcpu} vCPU, ${w.containerMemoryGb} GB, arm64, always on): ` +
    `${usd(cost.containerMonthly)} a month, ${usd(cost.containerPerTenant)} per tenant, before its load balancer\n`,
);

const agents = agentCost(agentWorkload as unknown as AgentWorkload);
const aw = agentWorkload as unknown as AgentWorkload;
process.stdout.write(
  `\nAgents: ${aw.agents} agents, ${aw.tokensPerAgentMonth} token requests each a month (a token every ${Math.round((30 * 24 * 60) / Math.max(aw.tokensPerAgentMonth, 1))} min)\n` +
    [agents.cognito, agents.facade]
      .map(
        (m) =>
          `  ${m.name.padEnd(42)} ${usd(m.monthly).padStart(12)} a month, ${usd(m.perAgent)} per agent; ` +
          `${m.tokenRequestsPerSecond.toFixed(1)} token requests/s of ${m.tokenRateQuota}/s` +
          (m.limit ? `; ${m.limit}` : '') +
          '\n',
      )
      .join(''),
);
