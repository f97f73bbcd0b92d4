/**
 * `npm run cost -- --tenants 100000 --free-share 0.95`: the monthly bill of the stack by tier
 * and by service, a sign-up flood, the quotas the tenants use in one Region, and agents'
 * tokens. Every assumption is a flag (see DEFAULT_TIER_WORKLOAD, DEFAULT_SIGNUP_FLOOD and
 * DEFAULT_AGENT_WORKLOAD); prices are in bench/cost-model.ts.
 */
import { parseArgs } from 'node:util';
import { type AgentWorkload, agentCost, DEFAULT_AGENT_WORKLOAD } from './agent-cost.js';
import { monthlyCost, PRICES } from './cost-model.js';
import {
  DEFAULT_SIGNUP_FLOOD,
  DEFAULT_TIER_WORKLOAD,
  environmentCost,
  fitsInOneRegion,
  maxPaidTenantsPerRegion,
  quotaRows,
  quotaStatus,
  type SignupFlood,
  signupFloodCost,
  type TierWorkload,
  tierCost,
  WAF_MINIMUM_RATE_LIMIT,
  WAF_RATE_WINDOWS,
} from './tier-cost.js';

/** What a flag's value must be, besides a number of 0 or more; a message when it is not. */
type Check = (value: number) => string | undefined;
const share: Check = (v) => (v <= 1 ? undefined : 'a share between 0 and 1');
const whole: Check = (v) => (Number.isInteger(v) ? undefined : 'a whole number');
const positiveWhole: Check = (v) =>
  Number.isInteger(v) && v >= 1 ? undefined : 'a whole number of 1 or more';

interface Flag<T> {
  readonly key: keyof T;
  readonly check?: Check;
}

const TIER_FLAGS: Record<string, Flag<TierWorkload>> = {
  tenants: { key: 'tenants', check: whole },
  calls: { key: 'toolCallsPerMonth' },
  'mcp-ms': { key: 'mcpDurationMs' },
  'mcp-mb': { key: 'mcpMemoryMb', check: positiveWhole },
  'authorizer-share': { key: 'authorizerInvocationsPerCall' },
  'write-share': { key: 'writeShare', check: share },
  'usage-writes': { key: 'usageWritesPerCall' },
  'secrets-per-tenant': { key: 'secretsPerTenant' },
  'log-bytes': { key: 'logBytesPerCall' },
  'free-share': { key: 'freeShare', check: share },
  'premium-share': { key: 'premiumShare', check: share },
  'free-call-share': { key: 'freeCallShare', check: share },
  'kms-per-pooled-call': { key: 'kmsRequestsPerPooledCall' },
  'registry-bytes': { key: 'registryBytesPerTenant' },
  'cold-start-share': { key: 'coldStartShare', check: share },
  'init-ms': { key: 'initMs' },
  'isolated-envs': { key: 'isolatedEnvironmentsPerTenant' },
  'active-users': { key: 'activeUsersPerTenant' },
  'waf-rules': { key: 'wafRules', check: whole },
  'users-per-tenant': { key: 'usersPerTenant' },
  'peak-factor': { key: 'peakToAverage' },
  concurrency: { key: 'lambdaConcurrency', check: positiveWhole },
};

const FLOOD_FLAGS: Record<string, Flag<SignupFlood>> = {
  signups: { key: 'signups', check: whole },
  sources: { key: 'sources', check: positiveWhole },
  'flood-days': {
    key: 'floodDays',
    check: (v) =>
      Number.isInteger(v) && v >= 1 && v <= 30 ? undefined : 'a whole number of days from 1 to 30',
  },
  'per-source': {
    key: 'perSource',
    check: (v) =>
      Number.isInteger(v) && v >= WAF_MINIMUM_RATE_LIMIT
        ? undefined
        : `a whole number of ${WAF_MINIMUM_RATE_LIMIT} or more (the lowest limit AWS WAF's rate-based rule accepts)`,
  },
  window: {
    key: 'windowSeconds',
    check: (v) =>
      (WAF_RATE_WINDOWS as readonly number[]).includes(v)
        ? undefined
        : `one of AWS WAF's evaluation windows: ${WAF_RATE_WINDOWS.join(', ')} seconds`,
  },
  'signup-cap': { key: 'signupCap', check: whole },
  'confirm-share': { key: 'confirmShare', check: share },
};

/** The agents section: `--agents 10000` and what a token renewal costs. */
const AGENT_FLAGS: Record<string, Flag<AgentWorkload>> = {
  agents: { key: 'agents', check: whole },
  'tokens-per-agent': { key: 'tokensPerAgentMonth' },
  'facade-ms': { key: 'facadeMs' },
  'cognito-client-fee': { key: 'cognitoClientFee' },
};

function readFlags() {
  try {
    return parseArgs({
      options: Object.fromEntries(
        [...Object.keys(TIER_FLAGS), ...Object.keys(FLOOD_FLAGS), ...Object.keys(AGENT_FLAGS)].map(
          (flag) => [flag, { type: 'string' }],
        ),
      ),
    }).values;
  } catch (error) {
    // An unknown flag, or one without its value: say which, without a stack trace.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
const values: Record<string, string | boolean | undefined> = readFlags();

function applyFlags<T extends object>(defaults: T, flags: Record<string, Flag<T>>): T {
  const result: Record<string, unknown> = Object.fromEntries(Object.entries(defaults));
  for (const [flag, { key, check }] of Object.entries(flags)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const value = Number(raw.replaceAll('_', ''));
    const problem =
      !Number.isFinite(value) || value < 0 || raw.trim() === ''
        ? 'a number of 0 or more'
        : check?.(value);
    if (problem) {
      process.stderr.write(`--${flag} must be ${problem}, got "${raw}"\n`);
      process.exit(2);
    }
    result[key as string] = value;
  }
  return result as unknown as T;
}

const w = applyFlags(DEFAULT_TIER_WORKLOAD, TIER_FLAGS);
const flood = applyFlags(DEFAULT_SIGNUP_FLOOD, FLOOD_FLAGS);
const aw = applyFlags(DEFAULT_AGENT_WORKLOAD, AGENT_FLAGS);

const usd = (n: number) => `$${n < 10 ? n.toFixed(4) : n.toFixed(2)}`;
/** Fractions of a cent, for what one environment or one request costs. */
const usdFine = (n: number) => `$${n.toFixed(7)}`;
const out = (text: string) => process.stdout.write(text);
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

// The month by tier and by service.
const cost = tierCost(w);
const { mix } = cost;
const row = (cells: string[]) =>
  `  ${cells[0]?.padEnd(50)}${cells
    .slice(1)
    .map((cell) => cell.padStart(11))
    .join(' ')}\n`;
out(
  `\nMonthly cost, ${PRICES.region} list prices as of ${PRICES.readOn} (tier prices read 2026-12-02), no free tier\n` +
    `${w.tenants} tenants: ${mix.free} free (pooled), ${mix.standard} standard (own key and API key), ` +
    `${mix.premium} premium (own key and API key, isolated execution)\n` +
    `${w.toolCallsPerMonth} tool calls a month, MCP Lambda ${w.mcpDurationMs} ms at ${w.mcpMemoryMb} MB (arm64)\n\n` +
    row(['Service', 'platform', 'idle free', 'idle paid', 'isolated', 'per 1M calls']) +
    cost.lines
      .map((line) =>
        row([
          line.service,
          usd(line.platform),
          usd(line.perFreeTenant),
          usd(line.perPaidTenant),
          usd(line.perIsolatedTenant),
          usd(line.perMillionCalls),
        ]),
      )
      .join('') +
    row([
      'Total',
      usd(cost.platform),
      usd(cost.idle.free),
      usd(cost.idle.standard),
      usd(cost.isolatedInUse),
      usd(cost.perMillionCalls),
    ]),
);

const before = monthlyCost({ ...w, secretsPerTenant: 1 });
out(
  `\n  Idle free tenant: ${usd(cost.idle.free)} a month (no key, no API key, no secret: its registry items and wrapped data key)\n` +
    `  Idle paying tenant: ${usd(cost.idle.standard)} a month (its KMS key; its API key is free); a webhook adds ${usd(PRICES.secretsPerSecretMonth)} (one secret)\n` +
    `  Isolated tenant in use: adds ${usd(cost.isolatedInUse)} a month, ${w.isolatedEnvironmentsPerTenant} environments of its own at ` +
    `${usdFine(environmentCost(w))} each (INIT ${w.initMs} ms billed, isolation charge per GB)\n` +
    `  This stack: ${usd(cost.stackMonthly)} a month, ${usd(w.tenants > 0 ? cost.stackMonthly / w.tenants : 0)} per tenant\n` +
    `  Cognito: ${cost.cognito.activeUsers} monthly active users, ${cost.cognito.billable} beyond the free ` +
    `${PRICES.cognitoFreeMau} at ${usd(PRICES.cognitoEssentialsPerMau)}: ${usd(cost.cognito.mauCharge)}; ` +
    `WAF on their user pool requests ${usd(cost.cognito.wafRequests)}\n` +
    `  All together: ${usd(cost.monthly)} a month, ${usd(cost.perTenant)} per tenant\n` +
    `  Every tenant with its own key, API key and a secret (before issue 20): ${usd(before.monthly)} a month\n` +
    `  One Fargate task per tenant (${w.containerVcpu} vCPU, ${w.containerMemoryGb} GB, arm64, always on): ` +
    `${usd(before.containerMonthly)} a month, ${usd(before.containerPerTenant)} per tenant, before its load balancer\n`,
);

// A sign-up flood.
const abuse = signupFloodCost(flood, w);
out(
  `\nSign-up abuse: ${flood.signups} scripted sign-ups from ${plural(flood.sources, 'source')} over ` +
    `${plural(flood.floodDays, 'day')}, never calling a tool\n` +
    `  WAF: ${flood.perSource} sign-ups per source per ${flood.windowSeconds} s; daily cap: ${flood.signupCap} self sign-ups\n` +
    `  Blocked by WAF ${Math.round(abuse.blockedByWaf)}, refused by the cap ${Math.round(abuse.refusedByCap)}, ` +
    `accepted ${abuse.accepted}, confirmed ${abuse.confirmed}\n` +
    abuse.lines
      .map((line) => `  ${line.item.padEnd(58)}${usd(line.monthly).padStart(11)}\n`)
      .join('') +
    `  ${'Added to the stack'.padEnd(58)}${usd(abuse.stackMonthly).padStart(11)}\n` +
    `  Cognito: ${abuse.cognitoActiveUsers} monthly active users (every accepted sign-up): $0 while the month's MAUs stay\n` +
    `  within the free ${PRICES.cognitoFreeMau}, ${usd(abuse.cognitoBeyondFreeTier)} beyond it; the cap bounds self sign-ups at ` +
    `${usd(abuse.cognitoCeiling)} a month\n`,
);

// The quotas in one Region.
const rows = quotaRows(w, flood);
const quotaRow = (cells: string[]) =>
  `  ${cells[0]?.padEnd(50)}${cells[1]?.padStart(10)}${cells[2]?.padStart(12)}  ${cells[3]?.padEnd(10)} ${cells[4]}\n`;
out(
  `\nQuotas at ${w.tenants} tenants (${mix.paid} paying, ${mix.premium} isolated), one Region, ` +
    `${w.toolCallsPerMonth} calls a month at ${w.peakToAverage}x the average at peak\n` +
    quotaRow(['Quota', 'used', 'quota', 'adjustable', 'status']) +
    rows
      .map((r) =>
        quotaRow([
          r.name,
          String(r.used),
          String(r.quota),
          r.adjustable ? 'yes' : 'no',
          quotaStatus(r),
        ]),
      )
      .join('') +
    `  Fits in one Region: ${fitsInOneRegion(rows) ? 'yes' : 'NO'}. Paying tenants fit up to ${maxPaidTenantsPerRegion()} per Region ` +
    `(API keys cannot be raised past 10000).\n` +
    `  Cognito's default e-mail sender sends 50 messages a day per account (not adjustable): a cap above 50 needs Amazon SES.\n`,
);

// Agents.
const agents = agentCost(aw);
out(
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
