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
  fargateArmPerVcpuHour: 0.03238,
  fargateArmPerGbHour: 0.00356,
  hoursPerMonth: 730,
} as const;

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
  kmsRequestsPerCall: 0.004,
  secretsCallsPerCall: 0,
  secretsPerTenant: 1,
  storedGbPerTenant: 0.001,
  logBytesPerCall: 1500,
  containerVcpu: 0.25,
  containerMemoryGb: 0.5,
};

export interface CostLine {
  readonly service: string;
  readonly perTenantIdle: number;
  readonly perMillionCalls: number;
}

/** Monthly cost per service: what one idle tenant costs, and what a million tool calls add. */
export function costLines(w: Workload, p = PRICES): CostLine[] {
  const gbSeconds = (ms: number, mb: number) => (ms / 1000) * (mb / 1024);
  const million = 1_000_000;
  return [
    {
      service: 'API Gateway (REST)',
      perTenantIdle: 0,
      perMillionCalls: p.apiGatewayRestPerMillion,
    },
    {
      service: 'Lambda (MCP handler, authorizer)',
      perTenantIdle: 0,
      perMillionCalls:
        p.lambdaPerMillionRequests * (1 + w.authorizerInvocationsPerCall) +
        million *
          p.lambdaArmPerGbSecond *
          (gbSeconds(w.mcpDurationMs, w.mcpMemoryMb) +
            w.authorizerInvocationsPerCall *
              gbSeconds(w.authorizerDurationMs, w.authorizerMemoryMb)),
    },
    {
      service: 'DynamoDB (on demand)',
      perTenantIdle: w.storedGbPerTenant * p.dynamodbPerGbMonth,
      perMillionCalls:
        w.writeShare * p.dynamodbPerMillionWriteUnits +
        (1 - w.writeShare) * p.dynamodbPerMillionReadUnits,
    },
    {
      service: 'KMS (one key per tenant)',
      perTenantIdle: p.kmsPerKeyMonth,
      perMillionCalls: ((million * w.kmsRequestsPerCall) / 10_000) * p.kmsPer10kRequests,
    },
    { service: 'STS (AssumeRole with tags)', perTenantIdle: 0, perMillionCalls: 0 },
    {
      service: 'Secrets Manager',
      perTenantIdle: w.secretsPerTenant * p.secretsPerSecretMonth,
      perMillionCalls: ((million * w.secretsCallsPerCall) / 10_000) * p.secretsPer10kCalls,
    },
    {
      service: 'CloudWatch Logs (ingest + a month stored)',
      perTenantIdle: 0,
      perMillionCalls:
        ((million * w.logBytesPerCall) / 1e9) * (p.logsPerGbIngested + p.logsPerGbMonthStored),
    },
  ];
}

export interface CostSummary {
  readonly lines: CostLine[];
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
  const idleTenant = sum(lines.map((line) => line.perTenantIdle));
  const perMillionCalls = sum(lines.map((line) => line.perMillionCalls));
  const monthly = idleTenant * w.tenants + (perMillionCalls * w.toolCallsPerMonth) / 1_000_000;
  const containerPerTenant =
    p.hoursPerMonth *
    (w.containerVcpu * p.fargateArmPerVcpuHour + w.containerMemoryGb * p.fargateArmPerGbHour);
  return {
    lines,
    idleTenant,
    perMillionCalls,
    monthly,
    perTenant: w.tenants > 0 ? monthly / w.tenants : 0,
    containerPerTenant,
    containerMonthly: containerPerTenant * w.tenants,
  };
}

function sum(values: number[]) {
  return values.reduce((total, n) => total + n, 0);
}
