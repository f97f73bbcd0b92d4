import { describe, expect, it } from 'vitest';
import { AGENT_PRICES, agentCost, DEFAULT_AGENT_WORKLOAD } from '../../bench/agent-cost.js';
import { DEFAULT_WORKLOAD, monthlyCost, PRICES } from '../../bench/cost-model.js';

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
