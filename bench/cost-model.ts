/**
 * The cost model behind docs/COST.md: AWS list prices for US East (N. Virginia), on demand,
 * without the free tier, as the authors knew them on 2026-11-27. Only the API Gateway REST
 * price was checked against an AWS page from this machine (no AWS pricing API is reachable
 * here); check the others on the services' pricing pages before quoting a figure, and change
 * them here, in one place.
 */
export const PRICES = {
  region: 'us-east-1',
  readOn: '2026-11-27',
  apiGatewayRestPerMillion: 3.5, // first 333 million requests a month
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  dynamodbPerMillionReadUnits: 0.125, // on-demand
  dynamodbPerMillionWriteUnits: 0.625, // on-demand
  dynamodbPerGbMonth: 0.25,
  kmsPerKeyMonth: 1,
  kmsPer10kRequests: 0.03,
  stsPerCall: 0, // AssumeRole is free
  secretsPerSecretMonth: 0.4,
  secretsPer10kCalls: 0.05,
  logsPerGbIngested: 0.5,
  logsPerGbMonthStored: 0.03,
  cloudwatchPerMetricMonth: 0.3, // custom metrics, first 10,000
  cloudwatchPerAlarmMetricMonth: 0.1, // standard resolution, per metric in the alarm
  cloudwatchPerDashboardMonth: 3, // beyond the three free dashboards
  fargateArmPerVcpuHour: 0.03238,
  fargateArmPerGbHour: 0.00356,
  hoursPerMonth: 730,
  // Read on 2026-12-02 from stored copies of the AWS pages (sources in docs/COST.md):
  /**
   * Lambda tenant isolation mode: charged each time Lambda creates a tenant-isolated execution
   * environment, by the function's memory. The figure is the Lambda pricing page's worked
   * example (x86, US East); no arm64 figure was found, so the x86 one is used for arm64 too.
   */
  lambdaTenantIsolationPerGbEnvironment: 0.000167,
  /** Cognito user pools, Essentials plan: per MAU beyond the free 10,000 a month per account. */
  cognitoEssentialsPerMau: 0.015,
  cognitoFreeMau: 10_000,
  wafPerWebAclMonth: 5,
  wafPerRuleMonth: 1,
  wafPerMillionRequests: 0.6,
  // As the authors knew them (not checked from this machine):
  sesPer1000Emails: 0.1,
  sqsPerMillionRequests: 0.4,
} as const;

/** Billed GB-seconds of one invocation. */
export function gbSeconds(ms: number, mb: number): number {
  return (ms / 1000) * (mb / 1024);
}

/** Lambda's charge for one invocation of `ms` at `mb` (arm64), its request included. */
export function lambdaInvocation(ms: number, mb: number, p = PRICES): number {
  return p.lambdaPerMillionRequests / 1_000_000 + gbSeconds(ms, mb) * p.lambdaArmPerGbSecond;
}

/** What the model assumes about a tool call; the defaults come from `npm run bench` and the stack. */
export interface Workload {
  readonly tenants: number;
  readonly toolCallsPerMonth: number;
  /** Billed duration of the MCP Lambda per call, ms (not measurable without AWS; an assumption). */
  readonly mcpDurationMs: number;
  /** MCP Lambda memory, MB (lib/constructs/mcp-api.ts). */
  readonly mcpMemoryMb: number;
  /** Authorizer invocations per tool call: a cache miss per token every 60 s. */
  readonly authorizerInvocationsPerCall: number;
  readonly authorizerDurationMs: number;
  readonly authorizerMemoryMb: number;
  /** Share of calls that write (one write unit) rather than read (one read unit). */
  readonly writeShare: number;
  /**
   * Usage-table write units per call: the fair-use counters' block writes, and the metering
   * function's transactional writes (two units an item: a row per tenant, tool and day and a
   * total per tenant and month for each delivery, and the delivery's marker).
   */
  readonly usageWritesPerCall: number;
  /** Metering function invocations per call (one per log delivery) and their billed duration. */
  readonly meteringInvocationsPerCall: number;
  readonly meteringDurationMs: number;
  /** Custom metrics the handlers emit (by tier and tool), and metrics in the alarms. */
  readonly customMetrics: number;
  readonly alarmMetrics: number;
  /** KMS requests per tool call (bench: 4 per 1,000 over 10 tenants, the data-key cache). */
  readonly kmsRequestsPerCall: number;
  /** Secrets Manager calls per tool call (bench: 0 once cached). */
  readonly secretsCallsPerCall: number;
  readonly secretsPerTenant: number;
  readonly storedGbPerTenant: number;
  /** Log bytes written per tool call (authorizer, MCP handler, access log). */
  readonly logBytesPerCall: number;
  /** The alternative: one Fargate task per tenant, always on. */
  readonly containerVcpu: number;
  readonly containerMemoryGb: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  tenants: 1000,
  toolCallsPerMonth: 1_000_000,
  mcpDurationMs: 50,
  mcpMemoryMb: 512,
  authorizerInvocationsPerCall: 0.1,
  authorizerDurationMs: 20,
  authorizerMemoryMb: 256,
  writeShare: 0.5,
  // npm run bench: 10 counter writes and 13 metering transactions writing 273 items per 1,000
  // calls over 10 tenants (2 units an item in a transaction).
  usageWritesPerCall: 0.56,
  meteringInvocationsPerCall: 0.013,
  meteringDurationMs: 100,
  // ToolCall, ToolError, ToolDuration for 3 tiers x 12 tools, 2 refusal metrics x 3 tiers, 4 more.
  customMetrics: 3 * 3 * 12 + 2 * 3 + 4,
  alarmMetrics: 14,
  kmsRequestsPerCall: 0.004,
  secretsCallsPerCall: 0,
  secretsPerTenant: 1,
  storedGbPerTenant: 0.001,
  logBytesPerCall: 2500,
  containerVcpu: 0.25,
  containerMemoryGb: 0.5,
};

export interface CostLine {
  readonly service: string;
  /** What the deployment costs a month whatever the tenants and calls. */
  readonly platform: number;
  readonly perTenantIdle: number;
  readonly perMillionCalls: number;
}

/** What a million tool calls cost in Lambda: the MCP handler, the authorizer and metering. */
export function lambdaPerMillionCalls(w: Workload, p = PRICES): number {
  return (
    p.lambdaPerMillionRequests *
      (1 + w.authorizerInvocationsPerCall + w.meteringInvocationsPerCall) +
    1_000_000 *
      p.lambdaArmPerGbSecond *
      (gbSeconds(w.mcpDurationMs, w.mcpMemoryMb) +
        w.authorizerInvocationsPerCall * gbSeconds(w.authorizerDurationMs, w.authorizerMemoryMb) +
        w.meteringInvocationsPerCall * gbSeconds(w.meteringDurationMs, 256))
  );
}

/** What a million tool calls cost in DynamoDB: the data item and the usage-table writes. */
export function dynamodbPerMillionCalls(w: Workload, p = PRICES): number {
  return (
    (w.writeShare + w.usageWritesPerCall) * p.dynamodbPerMillionWriteUnits +
    (1 - w.writeShare) * p.dynamodbPerMillionReadUnits
  );
}

/** What a million tool calls cost in KMS requests, at `requestsPerCall`. */
export function kmsPerMillionCalls(requestsPerCall: number, p = PRICES): number {
  return ((1_000_000 * requestsPerCall) / 10_000) * p.kmsPer10kRequests;
}

/** What a million tool calls cost in Secrets Manager calls. */
export function secretsPerMillionCalls(w: Workload, p = PRICES): number {
  return ((1_000_000 * w.secretsCallsPerCall) / 10_000) * p.secretsPer10kCalls;
}

/** What a million tool calls cost in CloudWatch Logs (ingested, and stored a month). */
export function logsPerMillionCalls(w: Workload, p = PRICES): number {
  return ((1_000_000 * w.logBytesPerCall) / 1e9) * (p.logsPerGbIngested + p.logsPerGbMonthStored);
}

/** The deployment's metrics, alarms and dashboard a month. */
export function monitoringPlatform(w: Workload, p = PRICES): number {
  return (
    w.customMetrics * p.cloudwatchPerMetricMonth +
    w.alarmMetrics * p.cloudwatchPerAlarmMetricMonth +
    p.cloudwatchPerDashboardMonth
  );
}

/**
 * Monthly cost per service when every tenant has resources of its own (its KMS key, its API
 * key, its secrets): what the stack cost before the pooled free tier (issue 20), and what a
 * tenant of a dedicated-resource tier costs now. bench/tier-cost.ts models the tiers.
 */
export function costLines(w: Workload, p = PRICES): CostLine[] {
  return [
    {
      service: 'API Gateway (REST)',
      platform: 0,
      perTenantIdle: 0,
      perMillionCalls: p.apiGatewayRestPerMillion,
    },
    {
      service: 'Lambda (MCP handler, authorizer, metering)',
      platform: 0,
      perTenantIdle: 0,
      perMillionCalls: lambdaPerMillionCalls(w, p),
    },
    {
      service: 'DynamoDB (on demand; data and usage tables)',
      platform: 0,
      perTenantIdle: w.storedGbPerTenant * p.dynamodbPerGbMonth,
      perMillionCalls: dynamodbPerMillionCalls(w, p),
    },
    {
      service: 'KMS (one key per tenant)',
      platform: 0,
      perTenantIdle: p.kmsPerKeyMonth,
      perMillionCalls: kmsPerMillionCalls(w.kmsRequestsPerCall, p),
    },
    { service: 'STS (AssumeRole with tags)', platform: 0, perTenantIdle: 0, perMillionCalls: 0 },
    {
      service: 'Secrets Manager (tenant secrets, pseudonym key)',
      platform: p.secretsPerSecretMonth,
      perTenantIdle: w.secretsPerTenant * p.secretsPerSecretMonth,
      perMillionCalls: secretsPerMillionCalls(w, p),
    },
    {
      service: 'CloudWatch Logs (ingest + a month stored)',
      platform: 0,
      perTenantIdle: 0,
      perMillionCalls: logsPerMillionCalls(w, p),
    },
    {
      service: 'CloudWatch metrics, alarms, dashboard',
      platform: monitoringPlatform(w, p),
      perTenantIdle: 0,
      perMillionCalls: 0,
    },
  ];
}

export interface CostSummary {
  readonly lines: CostLine[];
  readonly platform: number;
  readonly idleTenant: number;
  readonly perMillionCalls: number;
  readonly monthly: number;
  readonly perTenant: number;
  readonly containerPerTenant: number;
  readonly containerMonthly: number;
}

/** The month for a number of tenants and tool calls, beside one always-on container per tenant. */
export function monthlyCost(w: Workload, p = PRICES): CostSummary {
  const lines = costLines(w, p);
  const platform = sum(lines.map((line) => line.platform));
  const idleTenant = sum(lines.map((line) => line.perTenantIdle));
  const perMillionCalls = sum(lines.map((line) => line.perMillionCalls));
  const monthly =
    platform + idleTenant * w.tenants + (perMillionCalls * w.toolCallsPerMonth) / 1_000_000;
  const containerPerTenant =
    p.hoursPerMonth *
    (w.containerVcpu * p.fargateArmPerVcpuHour + w.containerMemoryGb * p.fargateArmPerGbHour);
  return {
    lines,
    platform,
    idleTenant,
    perMillionCalls,
    monthly,
    perTenant: w.tenants > 0 ? monthly / w.tenants : 0,
    containerPerTenant,
    containerMonthly: containerPerTenant * w.tenants,
  };
}

export function sum(values: number[]): number {
  return values.reduce((total, n) => total + n, 0);
}
