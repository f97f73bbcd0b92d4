import { describe, expect, it } from 'vitest';
import { AGENT_PRICES, agentCost, DEFAULT_AGENT_WORKLOAD } from '../../bench/agent-cost.js';
import { DEFAULT_WORKLOAD, monthlyCost, PRICES } from '../../bench/cost-model.js';
import {
  DEFAULT_SIGNUP_FLOOD,
  DEFAULT_TIER_WORKLOAD,
  environmentCost,
  fitsInOneRegion,
  maxPaidTenantsPerRegion,
  quotaRows,
  quotaStatus,
  signupFloodCost,
  tenantMix,
  tierCost,
} from '../../bench/tier-cost.js';

describe('cost model (docs/COST.md, npm run cost)', () => {
  it('charges an idle tenant its KMS key, its secrets and its stored data, and nothing per call', () => {
    const idle = monthlyCost({ ...DEFAULT_WORKLOAD, tenants: 1, toolCallsPerMonth: 0 });
    expect(idle.monthly - idle.platform).toBeCloseTo(
      PRICES.kmsPerKeyMonth +
        DEFAULT_WORKLOAD.secretsPerTenant * PRICES.secretsPerSecretMonth +
        DEFAULT_WORKLOAD.storedGbPerTenant * PRICES.dynamodbPerGbMonth,
      6,
    );
  });

  it('adds the same amount for every million tool calls, whatever the tenant count', () => {
    const base = { ...DEFAULT_WORKLOAD, tenants: 10 };
    const one = monthlyCost({ ...base, toolCallsPerMonth: 1_000_000 });
    const three = monthlyCost({ ...base, toolCallsPerMonth: 3_000_000 });
    expect(three.monthly - one.monthly).toBeCloseTo(2 * one.perMillionCalls, 6);
    expect(one.perMillionCalls).toBeGreaterThan(PRICES.apiGatewayRestPerMillion);
  });

  it('bills the MCP Lambda by duration and memory, so halving either halves its compute', () => {
    const lambda = (mcpDurationMs: number, mcpMemoryMb: number) =>
      monthlyCost({
        ...DEFAULT_WORKLOAD,
        mcpDurationMs,
        mcpMemoryMb,
        authorizerInvocationsPerCall: 0,
        meteringInvocationsPerCall: 0,
      }).lines.find((line) => line.service.startsWith('Lambda'))?.perMillionCalls ?? Number.NaN;
    const requests = PRICES.lambdaPerMillionRequests;
    expect(lambda(100, 512) - requests).toBeCloseTo(2 * (lambda(50, 512) - requests), 6);
    expect(lambda(100, 256) - requests).toBeCloseTo(lambda(50, 512) - requests, 6);
  });

  it('puts an always-on container per tenant beside it, and divides by no tenant without failing', () => {
    const none = monthlyCost({ ...DEFAULT_WORKLOAD, tenants: 0, toolCallsPerMonth: 0 });
    expect(none.monthly).toBe(none.platform);
    expect(none.perTenant).toBe(0);
    expect(none.containerPerTenant).toBeGreaterThan(none.idleTenant);
  });
});

describe('cost model: fair use and observability', () => {
  it('bills the usage-table write units of every call, and the metrics once per deployment', () => {
    const dynamo = (usageWritesPerCall: number) =>
      monthlyCost({ ...DEFAULT_WORKLOAD, usageWritesPerCall }).lines.find((line) =>
        line.service.startsWith('DynamoDB'),
      )?.perMillionCalls ?? Number.NaN;
    expect(dynamo(3) - dynamo(0)).toBeCloseTo(3 * PRICES.dynamodbPerMillionWriteUnits, 6);

    const small = monthlyCost({ ...DEFAULT_WORKLOAD, tenants: 10 });
    const large = monthlyCost({ ...DEFAULT_WORKLOAD, tenants: 10_000 });
    expect(small.platform).toBe(large.platform);
    expect(small.platform).toBeGreaterThan(
      DEFAULT_WORKLOAD.customMetrics * PRICES.cloudwatchPerMetricMonth,
    );
  });
});

describe('agent identities (docs/COST.md, npm run cost -- --agents)', () => {
  it('at 10,000 always-on agents, the façade with one KMS key costs under a hundredth of Cognito M2M', () => {
    const { cognito, facade } = agentCost(DEFAULT_AGENT_WORKLOAD);

    // A token every 15 minutes: 2,880 a month per agent.
    expect(DEFAULT_AGENT_WORKLOAD.tokensPerAgentMonth).toBe(2_880);
    expect(cognito.monthly).toBeCloseTo(10_000 * 2_880 * AGENT_PRICES.cognitoPerTokenRequest, 2);
    expect(facade.monthly * 100).toBeLessThan(cognito.monthly);
    // Cognito needs the app-client quota raised tenfold (to its maximum); the façade has no
    // per-agent resource at all.
    expect(cognito.limit).toMatch(/quota/);
    expect(facade.limit).toBeUndefined();
    expect(facade.tokenRequestsPerSecond).toBeLessThan(facade.tokenRateQuota / 10);
  });

  it('past 10,000 agents Cognito cannot hold them in one user pool', () => {
    const { cognito } = agentCost({ ...DEFAULT_AGENT_WORKLOAD, agents: 10_001 });

    expect(cognito.limit).toMatch(/more than 10000 app clients/);
  });

  it('costs nothing per idle agent with the façade: no token, no charge beyond the two keys', () => {
    const { facade } = agentCost({ ...DEFAULT_AGENT_WORKLOAD, tokensPerAgentMonth: 0 });

    expect(facade.monthly).toBe(2 * PRICES.kmsPerKeyMonth);
  });
});

describe('tiers (docs/COST.md, "Tiers"; issue 20 targets)', () => {
  it('keeps an idle free tenant at or under a cent a month: no KMS key, no API key, no secret', () => {
    const cost = tierCost(DEFAULT_TIER_WORKLOAD);

    expect(cost.idle.free).toBeLessThanOrEqual(0.01);
    const kms = cost.lines.find((line) => line.service.startsWith('KMS'));
    const secrets = cost.lines.find((line) => line.service.startsWith('Secrets'));
    expect(kms?.perFreeTenant).toBe(0);
    expect(secrets?.perFreeTenant).toBe(0);
  });

  it('keeps an idle paying tenant at or under $1.05 a month: its own KMS key, a free API key, no secret until a webhook', () => {
    const idle = tierCost(DEFAULT_TIER_WORKLOAD).idle.standard;
    const withWebhook = tierCost({ ...DEFAULT_TIER_WORKLOAD, secretsPerTenant: 1 }).idle.standard;

    expect(idle).toBeGreaterThanOrEqual(PRICES.kmsPerKeyMonth);
    expect(idle).toBeLessThanOrEqual(1.05);
    // The check can fail: a paying tenant with a webhook secret is over the idle target.
    expect(withWebhook - idle).toBeCloseTo(PRICES.secretsPerSecretMonth, 6);
    expect(withWebhook).toBeGreaterThan(1.05);
  });

  it('charges the pooled KMS key and the WAF web ACL once per deployment, whatever the tenants', () => {
    const few = tierCost({ ...DEFAULT_TIER_WORKLOAD, tenants: 10 });
    const many = tierCost({ ...DEFAULT_TIER_WORKLOAD, tenants: 100_000 });

    expect(few.platform).toBe(many.platform);
    expect(few.platform).toBeCloseTo(
      monthlyCost(DEFAULT_WORKLOAD).platform +
        PRICES.kmsPerKeyMonth +
        PRICES.wafPerWebAclMonth +
        DEFAULT_TIER_WORKLOAD.wafRules * PRICES.wafPerRuleMonth +
        PRICES.cloudwatchPerMetricMonth +
        PRICES.cloudwatchPerAlarmMetricMonth,
      6,
    );
  });

  it('adds the cold starts of its own environments to an isolated tenant, with the isolation charge by memory', () => {
    const w = { ...DEFAULT_TIER_WORKLOAD, isolatedEnvironmentsPerTenant: 200 };
    const perEnvironment = environmentCost(w);

    expect(perEnvironment).toBeGreaterThan(
      (w.mcpMemoryMb / 1024) * PRICES.lambdaTenantIsolationPerGbEnvironment,
    );
    expect(tierCost(w).isolatedInUse).toBeCloseTo(200 * perEnvironment, 9);
    // No isolated tenants, nothing added; a hundred of them, a hundred times one.
    const none = tierCost({ ...w, premiumShare: 0 });
    const some = tierCost({ ...w, premiumShare: 1, freeShare: 0, tenants: 100 });
    expect(none.mix.premium).toBe(0);
    expect(some.mix.premium).toBe(100);
    expect(
      some.stackMonthly -
        tierCost({ ...w, premiumShare: 0, freeShare: 0, tenants: 100 }).stackMonthly,
    ).toBeCloseTo(100 * 200 * perEnvironment, 6);
  });

  it('splits the tenants into tiers without losing one', () => {
    const mix = tenantMix({ tenants: 100_001, freeShare: 0.95, premiumShare: 0.1 });

    expect(mix.free + mix.standard + mix.premium).toBe(100_001);
    expect(mix.paid).toBe(mix.standard + mix.premium);
  });

  it('bills Cognito by monthly active users beyond the free tier, not by tenants', () => {
    const within = tierCost({ ...DEFAULT_TIER_WORKLOAD, tenants: 1_000 });
    const beyond = tierCost({ ...DEFAULT_TIER_WORKLOAD, tenants: 100_000 });

    expect(within.cognito.mauCharge).toBe(0);
    expect(beyond.cognito.billable).toBe(100_000 * 0.2 - PRICES.cognitoFreeMau);
    expect(beyond.cognito.mauCharge).toBeCloseTo(10_000 * PRICES.cognitoEssentialsPerMau, 6);
    expect(beyond.monthly - beyond.stackMonthly).toBeCloseTo(beyond.cognito.monthly, 6);
  });
});

describe('sign-up abuse (docs/COST.md, "Sign-up abuse")', () => {
  it('adds at most $5 a month for 10,000 scripted sign-ups, even from a thousand addresses over a month', () => {
    const flood = signupFloodCost(DEFAULT_SIGNUP_FLOOD);

    expect(flood.attempts).toBe(10_000);
    // Too many addresses for WAF to block any; the daily cap of 200 accepts 6,000 in 30 days.
    expect(flood.blockedByWaf).toBe(0);
    expect(flood.accepted).toBe(200 * 30);
    expect(flood.refusedByCap).toBe(4_000);
    expect(flood.stackMonthly).toBeLessThanOrEqual(5);
  });

  it('lets WAF stop one address at its per-source rate before the cap counts it', () => {
    const flood = signupFloodCost({ ...DEFAULT_SIGNUP_FLOOD, sources: 1, floodDays: 1 });

    // 10 every 5 minutes is 2,880 a day from one address; the cap accepts 200 of them.
    expect(flood.blockedByWaf).toBe(10_000 - 2_880);
    expect(flood.refusedByCap).toBe(2_880 - 200);
    expect(flood.accepted).toBe(200);
  });

  it('would cost far more than $5 without the cap and the per-source limit (the bound is theirs)', () => {
    const unbounded = signupFloodCost({
      ...DEFAULT_SIGNUP_FLOOD,
      signups: 1_000_000,
      signupCap: 1_000_000,
    });

    expect(unbounded.accepted).toBe(1_000_000);
    expect(unbounded.stackMonthly).toBeGreaterThan(5);
  });

  it("counts Cognito's monthly active users apart, bounded by the cap", () => {
    const flood = signupFloodCost(DEFAULT_SIGNUP_FLOOD);

    expect(flood.cognitoActiveUsers).toBe(flood.accepted);
    expect(flood.cognitoBeyondFreeTier).toBeCloseTo(6_000 * PRICES.cognitoEssentialsPerMau, 6);
    expect(flood.cognitoCeiling).toBeCloseTo(200 * 30 * PRICES.cognitoEssentialsPerMau, 6);
    expect(flood.lines.map((line) => line.item).join()).not.toMatch(/Cognito/);
  });
});

describe('quotas (docs/COST.md, "Quotas at 100,000 tenants")', () => {
  it('fits 100,000 tenants at a free share of 0.95 in one Region', () => {
    const rows = quotaRows({ ...DEFAULT_TIER_WORKLOAD, tenants: 100_000, freeShare: 0.95 });

    expect(fitsInOneRegion(rows)).toBe(true);
    const apiKeys = rows.find((row) => row.name.startsWith('API Gateway API keys'));
    expect(apiKeys?.used).toBe(5_000 + 1);
    expect(apiKeys && quotaStatus(apiKeys)).toBe('within default');
  });

  it('does not fit 200,000 tenants that all pay: API keys cannot be raised past 10,000', () => {
    const rows = quotaRows({ ...DEFAULT_TIER_WORKLOAD, tenants: 200_000, freeShare: 0 });

    expect(fitsInOneRegion(rows)).toBe(false);
    const exceeded = rows.filter((row) => quotaStatus(row) === 'exceeds').map((row) => row.name);
    expect(exceeded).toEqual(['API Gateway API keys per Region']);
    const kmsKeys = rows.find((row) => row.name.startsWith('KMS customer managed keys'));
    expect(kmsKeys && quotaStatus(kmsKeys)).toBe('needs an increase');
  });

  it('holds at most 9,999 paying tenants in one Region, beside the free tier’s shared key', () => {
    const fits = (paid: number) =>
      fitsInOneRegion(quotaRows({ ...DEFAULT_TIER_WORKLOAD, tenants: paid, freeShare: 0 }));

    expect(maxPaidTenantsPerRegion()).toBe(9_999);
    expect(fits(9_999)).toBe(true);
    expect(fits(10_000)).toBe(false);
  });
});
