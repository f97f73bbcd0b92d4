import { TIER_NAMES, TIERS } from '../lambda/shared/fair-use/tiers.js';
import {
  DEFAULT_WORKLOAD,
  dynamodbPerMillionCalls,
  gbSeconds,
  kmsPerMillionCalls,
  lambdaInvocation,
  lambdaPerMillionCalls,
  logsPerMillionCalls,
  monitoringPlatform,
  PRICES,
  secretsPerMillionCalls,
  sum,
  type Workload,
} from './cost-model.js';

/**
 * The month by tier (docs/COST.md, "Tiers"): a pooled-resource tier's tenants own no KMS key,
 * no API key and no secret (a data key wrapped by the one pooled key sits in their registry
 * item); a dedicated-resource tier's tenants each own a KMS key and an API key; an
 * isolated-execution tier's tenants get Lambda execution environments of their own (tenant
 * isolation mode), so each of them adds the cold starts of its own environments.
 *
 * Which tier is which comes from lambda/shared/fair-use/tiers.ts; what the tenants are split
 * into is two shares: of all tenants, the free (pooled) ones; of the paying ones, the premium
 * (isolated) ones.
 */
export interface TierWorkload extends Workload {
  /** Share of the tenants on the free tier (pooled resources, pooled execution). */
  readonly freeShare: number;
  /** Share of the paying tenants on the premium tier (isolated execution). */
  readonly premiumShare: number;
  /** Share of the tool calls made by free tenants (the rest by paying ones). */
  readonly freeCallShare: number;
  /**
   * KMS requests per tool call of a pooled tenant: one Decrypt unwraps its data key, cached
   * 60 s per warm environment, so a tenant calling in bursts of ten costs 0.1 (an assumption).
   * Paying tenants use `kmsRequestsPerCall` (measured by `npm run bench`).
   */
  readonly kmsRequestsPerPooledCall: number;
  /**
   * Registry bytes per tenant, billed as DynamoDB storage: the tenant item (with the wrapped
   * data key of a pooled tenant), its owner's membership, the members lock, their index copies
   * and DynamoDB's 100 bytes of overhead per item.
   */
  readonly registryBytesPerTenant: number;
  /**
   * Share of tool calls that start a new execution environment (a cold start). AWS's analysis
   * of production functions puts cold starts under 1 % of invocations.
   */
  readonly coldStartShare: number;
  /** Billed INIT duration of the MCP function's cold start (billed since 2025-08-01), ms. */
  readonly initMs: number;
  /**
   * Execution environments an isolated-tier tenant makes Lambda create in a month: each time
   * its own environment has gone cold and it calls again, or it needs one more at once.
   */
  readonly isolatedEnvironmentsPerTenant: number;
  /** Cognito monthly active users per tenant (people who signed in or refreshed a token). */
  readonly activeUsersPerTenant: number;
  /**
   * Requests an active user sends the user pool in a month (sign-in pages, token requests;
   * a client connected all month refreshes every 30 min, 1,440 times), each inspected by WAF.
   */
  readonly userPoolRequestsPerActiveUser: number;
  /** Rules in the user pool's web ACL (the per-source sign-up rules). */
  readonly wafRules: number;
  /** Cognito users per tenant (for the users-per-pool quota). */
  readonly usersPerTenant: number;
  /** Peak request rate over the month's average (for the rate quotas). */
  readonly peakToAverage: number;
  /** The account's Lambda concurrency in the Region (1,000 by default, adjustable). */
  readonly lambdaConcurrency: number;
}

export const DEFAULT_TIER_WORKLOAD: TierWorkload = {
  ...DEFAULT_WORKLOAD,
  // A paying tenant has a secret only once it sets a webhook: an idle one has none.
  secretsPerTenant: 0,
  freeShare: 0.95,
  premiumShare: 0.1,
  freeCallShare: 0.3,
  kmsRequestsPerPooledCall: 0.1,
  registryBytesPerTenant: 3_000,
  coldStartShare: 0.01,
  // `npm run bench`: the MCP bundle imports in 349 ms on the build machine.
  initMs: 350,
  isolatedEnvironmentsPerTenant: 100,
  activeUsersPerTenant: 0.2,
  userPoolRequestsPerActiveUser: 1_450,
  wafRules: 2,
  usersPerTenant: 3,
  peakToAverage: 10,
  lambdaConcurrency: 1_000,
};

/** Platform KMS keys besides the pooled one: the access-token and webhook signing keys. */
export const PLATFORM_SIGNING_KEYS = 2;
/** DynamoDB measures storage in binary gigabytes. */
const GIB = 1024 ** 3;
const SECONDS_PER_MONTH = 30 * 24 * 3600;

export interface TenantMix {
  readonly free: number;
  readonly standard: number;
  readonly premium: number;
  readonly paid: number;
}

/** How many tenants each tier has. */
export function tenantMix(w: Pick<TierWorkload, 'tenants' | 'freeShare' | 'premiumShare'>) {
  const free = Math.round(w.tenants * w.freeShare);
  const paid = w.tenants - free;
  const premium = Math.round(paid * w.premiumShare);
  return { free, standard: paid - premium, premium, paid } satisfies TenantMix;
}

/** Tiers whose tenants share one API key (pooled resources), and tiers that share environments. */
export const POOLED_TIERS = TIER_NAMES.filter((name) => TIERS[name].resources === 'pooled');
export const POOLED_EXECUTION_TIERS = TIER_NAMES.filter(
  (name) => TIERS[name].execution === 'pooled',
);

export interface TierCostLine {
  readonly service: string;
  /** What the deployment costs a month whatever the tenants and calls. */
  readonly platform: number;
  /** An idle free (pooled) tenant a month. */
  readonly perFreeTenant: number;
  /** An idle paying tenant a month (standard or premium). */
  readonly perPaidTenant: number;
  /** What an isolated-tier tenant in use adds a month: its own environments' cold starts. */
  readonly perIsolatedTenant: number;
  readonly perMillionCalls: number;
}

/** One tenant-isolated execution environment created: its INIT billed, and the isolation charge. */
export function environmentCost(w: TierWorkload, p = PRICES): number {
  const gb = w.mcpMemoryMb / 1024;
  return (
    gbSeconds(w.initMs, w.mcpMemoryMb) * p.lambdaArmPerGbSecond +
    gb * p.lambdaTenantIsolationPerGbEnvironment
  );
}

export function tierCostLines(w: TierWorkload, p = PRICES): TierCostLine[] {
  const none = { platform: 0, perFreeTenant: 0, perPaidTenant: 0, perIsolatedTenant: 0 };
  const storage =
    w.storedGbPerTenant * p.dynamodbPerGbMonth +
    (w.registryBytesPerTenant / GIB) * p.dynamodbPerGbMonth;
  const kmsPerCall =
    w.freeCallShare * w.kmsRequestsPerPooledCall + (1 - w.freeCallShare) * w.kmsRequestsPerCall;
  return [
    {
      ...none,
      service: 'API Gateway (REST)',
      perMillionCalls: p.apiGatewayRestPerMillion,
    },
    {
      ...none,
      service: 'Lambda (MCP handler, authorizer, metering)',
      perMillionCalls: lambdaPerMillionCalls(w, p),
    },
    {
      ...none,
      // The MCP function is created in tenant isolation mode, so every environment it creates
      // is charged, the pooled tiers' shared ones included.
      service: 'Lambda cold starts (INIT billed, isolation charge)',
      perIsolatedTenant: w.isolatedEnvironmentsPerTenant * environmentCost(w, p),
      perMillionCalls: 1_000_000 * w.coldStartShare * environmentCost(w, p),
    },
    {
      ...none,
      service: 'DynamoDB (data, usage, registry with data keys)',
      perFreeTenant: storage,
      perPaidTenant: storage,
      perMillionCalls: dynamodbPerMillionCalls(w, p),
    },
    {
      ...none,
      service: 'KMS (pooled key; a key per paying tenant)',
      platform: p.kmsPerKeyMonth,
      perPaidTenant: p.kmsPerKeyMonth,
      perMillionCalls: kmsPerMillionCalls(kmsPerCall, p),
    },
    { ...none, service: 'STS (AssumeRole with tags)', perMillionCalls: 0 },
    {
      ...none,
      service: 'Secrets Manager (webhook secrets, pseudonym key)',
      platform: p.secretsPerSecretMonth,
      perPaidTenant: w.secretsPerTenant * p.secretsPerSecretMonth,
      perMillionCalls: secretsPerMillionCalls(w, p),
    },
    {
      ...none,
      service: 'CloudWatch Logs (ingest + a month stored)',
      perMillionCalls: logsPerMillionCalls(w, p),
    },
    {
      ...none,
      service: 'CloudWatch metrics, alarms, dashboard',
      // The daily sign-up cap adds one metric and one alarm.
      platform:
        monitoringPlatform(w, p) + p.cloudwatchPerMetricMonth + p.cloudwatchPerAlarmMetricMonth,
      perMillionCalls: 0,
    },
    {
      ...none,
      service: 'AWS WAF on the user pool (web ACL, rules)',
      platform: p.wafPerWebAclMonth + w.wafRules * p.wafPerRuleMonth,
      perMillionCalls: 0,
    },
  ];
}

export interface CognitoMonth {
  readonly activeUsers: number;
  /** Monthly active users beyond the free tier. */
  readonly billable: number;
  readonly mauCharge: number;
  /** WAF's per-request charge on the requests those users send the user pool. */
  readonly wafRequests: number;
  readonly monthly: number;
}

/** Cognito bills people, not tenants or tool calls: monthly active users beyond the free tier. */
export function cognitoMonth(activeUsers: number, requestsPerUser: number, p = PRICES) {
  const billable = Math.max(0, activeUsers - p.cognitoFreeMau);
  const mauCharge = billable * p.cognitoEssentialsPerMau;
  const wafRequests = ((activeUsers * requestsPerUser) / 1_000_000) * p.wafPerMillionRequests;
  return {
    activeUsers,
    billable,
    mauCharge,
    wafRequests,
    monthly: mauCharge + wafRequests,
  } satisfies CognitoMonth;
}

export interface TierSummary {
  readonly mix: TenantMix;
  readonly lines: TierCostLine[];
  readonly platform: number;
  readonly idle: { readonly free: number; readonly standard: number; readonly premium: number };
  /** What an isolated tenant in use adds to its idle month. */
  readonly isolatedInUse: number;
  readonly perMillionCalls: number;
  /** The month without Cognito: what the stack itself bills. */
  readonly stackMonthly: number;
  readonly cognito: CognitoMonth;
  readonly monthly: number;
  readonly perTenant: number;
}

/** The month for the tenants of every tier and the tool calls they make. */
export function tierCost(w: TierWorkload, p = PRICES): TierSummary {
  const lines = tierCostLines(w, p);
  const mix = tenantMix(w);
  const total = (field: keyof Omit<TierCostLine, 'service'>) =>
    sum(lines.map((line) => line[field]));
  const platform = total('platform');
  const paid = total('perPaidTenant');
  const idle = { free: total('perFreeTenant'), standard: paid, premium: paid };
  const isolatedInUse = total('perIsolatedTenant');
  const perMillionCalls = total('perMillionCalls');
  const stackMonthly =
    platform +
    mix.free * idle.free +
    mix.paid * paid +
    mix.premium * isolatedInUse +
    (perMillionCalls * w.toolCallsPerMonth) / 1_000_000;
  const cognito = cognitoMonth(
    Math.round(w.tenants * w.activeUsersPerTenant),
    w.userPoolRequestsPerActiveUser,
    p,
  );
  const monthly = stackMonthly + cognito.monthly;
  return {
    mix,
    lines,
    platform,
    idle,
    isolatedInUse,
    perMillionCalls,
    stackMonthly,
    cognito,
    monthly,
    perTenant: w.tenants > 0 ? monthly / w.tenants : 0,
  };
}

/**
 * A sign-up flood (docs/COST.md, "Sign-up abuse"): scripted sign-ups from `sources` addresses,
 * spread evenly over `floodDays` days of one month. AWS WAF's rate-based rule lets each address
 * make `perSource` sign-ups per `windowSeconds` (its minimum limit is 10; windows are 60, 120,
 * 300 or 600 s); the pre-sign-up trigger accepts at most `signupCap` self sign-ups a day in all.
 */
export interface SignupFlood {
  readonly signups: number;
  readonly sources: number;
  readonly floodDays: number;
  readonly perSource: number;
  readonly windowSeconds: number;
  readonly signupCap: number;
  /** Share of the accepted sign-ups whose e-mail is confirmed (each then provisions a tenant). */
  readonly confirmShare: number;
}

export const DEFAULT_SIGNUP_FLOOD: SignupFlood = {
  signups: 10_000,
  // The worst case for the bill: enough addresses that WAF blocks none, over a whole month,
  // so the daily cap is what stops them.
  sources: 1_000,
  floodDays: 30,
  perSource: 10,
  windowSeconds: 300,
  signupCap: 200,
  confirmShare: 1,
};

export const WAF_RATE_WINDOWS = [60, 120, 300, 600] as const;
export const WAF_MINIMUM_RATE_LIMIT = 10;

/** Per-attempt and per-tenant work of sign-up and onboarding (the stack's functions). */
const SIGNUP_WORK = {
  /** The pre-sign-up trigger: 128 MB, a registry read and the cap's counter write. */
  preSignUpMs: 20,
  preSignUpMb: 128,
  capWriteUnits: 1,
  /** Requests a confirmed sign-up sends the user pool: ConfirmSignUp and a managed sign-in. */
  userPoolRequestsPerConfirmed: 5,
  /** Onboarding: post-confirmation, the queue (send, receive, delete), the provisioner. */
  postConfirmationMs: 100,
  provisionerMs: 300,
  onboardingMb: 256,
  queueRequests: 3,
  /** GenerateDataKeyWithoutPlaintext under the pooled key: the tenant's data key. */
  kmsRequests: 1,
  /** Tenant, membership, lock and status updates, and the pre-token trigger's reads. */
  writeUnits: 6,
  readUnits: 2,
  preTokenMs: 50,
} as const;

export interface SignupFloodCost {
  readonly attempts: number;
  readonly blockedByWaf: number;
  readonly refusedByCap: number;
  readonly accepted: number;
  readonly confirmed: number;
  readonly lines: { readonly item: string; readonly monthly: number }[];
  /** What the flood adds to the stack's bill (Cognito's MAU charge apart). */
  readonly stackMonthly: number;
  /** Every accepted sign-up is a Cognito monthly active user this month. */
  readonly cognitoActiveUsers: number;
  /** Their charge if the month's MAUs are already beyond the free tier. */
  readonly cognitoBeyondFreeTier: number;
  /** The most the cap lets self sign-ups add to Cognito in a month (30 days at the cap). */
  readonly cognitoCeiling: number;
}

export function signupFloodCost(
  f: SignupFlood,
  w: TierWorkload = DEFAULT_TIER_WORKLOAD,
  p = PRICES,
): SignupFloodCost {
  const s = SIGNUP_WORK;
  const perDay = f.signups / f.floodDays;
  const wafAllowancePerDay = f.sources * f.perSource * ((24 * 3600) / f.windowSeconds);
  const passedPerDay = Math.min(perDay, wafAllowancePerDay);
  const acceptedPerDay = Math.min(passedPerDay, f.signupCap);
  const passed = passedPerDay * f.floodDays;
  const accepted = Math.floor(acceptedPerDay * f.floodDays);
  const confirmed = Math.floor(accepted * f.confirmShare);
  const lines = [
    {
      item: 'WAF requests (every attempt, and each confirmed sign-up)',
      monthly:
        ((f.signups + confirmed * s.userPoolRequestsPerConfirmed) / 1_000_000) *
        p.wafPerMillionRequests,
    },
    {
      item: 'Pre-sign-up trigger and the cap counter (past WAF)',
      monthly:
        passed *
        (lambdaInvocation(s.preSignUpMs, s.preSignUpMb, p) +
          (s.capWriteUnits / 1_000_000) * p.dynamodbPerMillionWriteUnits),
    },
    {
      item: 'Verification e-mails (Amazon SES)',
      monthly: (accepted / 1_000) * p.sesPer1000Emails,
    },
    {
      item: 'Onboarding of confirmed sign-ups (pooled data key)',
      monthly:
        confirmed *
        (lambdaInvocation(s.postConfirmationMs, s.onboardingMb, p) +
          lambdaInvocation(s.provisionerMs, s.onboardingMb, p) +
          lambdaInvocation(s.preTokenMs, s.onboardingMb, p) +
          (s.queueRequests / 1_000_000) * p.sqsPerMillionRequests +
          (s.kmsRequests / 10_000) * p.kmsPer10kRequests +
          (s.writeUnits / 1_000_000) * p.dynamodbPerMillionWriteUnits +
          (s.readUnits / 1_000_000) * p.dynamodbPerMillionReadUnits),
    },
    {
      // They never call a tool: no data, only their registry items and wrapped data key.
      item: 'Their idle free tenants (registry items, a month)',
      monthly: confirmed * (w.registryBytesPerTenant / GIB) * p.dynamodbPerGbMonth,
    },
  ];
  return {
    attempts: f.signups,
    blockedByWaf: f.signups - passed,
    refusedByCap: passed - accepted,
    accepted,
    confirmed,
    lines,
    stackMonthly: sum(lines.map((line) => line.monthly)),
    cognitoActiveUsers: accepted,
    cognitoBeyondFreeTier: accepted * p.cognitoEssentialsPerMau,
    cognitoCeiling: f.signupCap * 30 * p.cognitoEssentialsPerMau,
  };
}

/**
 * The quotas the design meets at a tenant count (docs/COST.md, "Quotas at 100,000 tenants"),
 * as documented on the pages listed in `source` (read 2026-12-02).
 */
export interface QuotaRow {
  readonly name: string;
  readonly used: number;
  readonly quota: number;
  readonly adjustable: boolean;
  /** A documented maximum for an adjustable quota. */
  readonly maximum?: number;
  readonly unit: string;
  readonly source: string;
}

export type QuotaStatus = 'within default' | 'needs an increase' | 'exceeds';

export function quotaStatus(row: QuotaRow): QuotaStatus {
  if (row.used <= row.quota) return 'within default';
  if (row.adjustable && (row.maximum === undefined || row.used <= row.maximum)) {
    return 'needs an increase';
  }
  return 'exceeds';
}

export const QUOTA_SOURCES = {
  apiGatewayRest:
    'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html',
  apiGatewayAccount: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
  kmsResources: 'https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html',
  kmsRequests: 'https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html',
  lambdaIsolation: 'https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html',
  lambdaLimits: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
  cognito: 'https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html',
  secrets: 'https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html',
  dynamodb: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html',
} as const;

/** The rate quotas of key creation are shown as keys a day: can every paying tenant's be made again? */
const SECONDS_PER_DAY = 24 * 3600;

export function quotaRows(
  w: TierWorkload,
  f: Pick<SignupFlood, 'signupCap'> = DEFAULT_SIGNUP_FLOOD,
): QuotaRow[] {
  const mix = tenantMix(w);
  const peakCallsPerSecond = (w.toolCallsPerMonth / SECONDS_PER_MONTH) * w.peakToAverage;
  const peakConcurrency = Math.ceil(
    peakCallsPerSecond *
      ((w.mcpDurationMs + w.authorizerInvocationsPerCall * w.authorizerDurationMs) / 1000),
  );
  // Each pool keeps at least one environment while warm, and as many as its peak concurrency.
  const pooledEnvironments =
    POOLED_EXECUTION_TIERS.length + Math.ceil(peakCallsPerSecond * (w.mcpDurationMs / 1000));
  const kmsPerCall =
    w.freeCallShare * w.kmsRequestsPerPooledCall + (1 - w.freeCallShare) * w.kmsRequestsPerCall;
  const q = QUOTA_SOURCES;
  return [
    {
      // One key per paying tenant, and one shared key per pooled tier.
      name: 'API Gateway API keys per Region',
      used: mix.paid + POOLED_TIERS.length,
      quota: 10_000,
      adjustable: false,
      unit: 'keys',
      source: q.apiGatewayRest,
    },
    {
      name: 'API Gateway usage plans per Region',
      used: TIER_NAMES.length,
      quota: 300,
      adjustable: true,
      unit: 'plans',
      source: q.apiGatewayRest,
    },
    {
      // 5 a second: can every paying tenant's API key be made again within a day?
      name: 'CreateApiKey, 5 a second (keys in a day)',
      used: mix.paid,
      quota: 5 * SECONDS_PER_DAY,
      adjustable: false,
      unit: 'keys',
      source: q.apiGatewayAccount,
    },
    {
      // The paying tenants' keys, the pooled key and the two signing keys (keys pending
      // deletion after a move down count too, for their 7 to 30 days).
      name: 'KMS customer managed keys per Region',
      used: mix.paid + 1 + PLATFORM_SIGNING_KEYS,
      quota: 100_000,
      adjustable: true,
      unit: 'keys',
      source: q.kmsResources,
    },
    {
      name: 'KMS CreateKey, 5 a second (keys in a day)',
      used: mix.paid,
      quota: 5 * SECONDS_PER_DAY,
      adjustable: true,
      unit: 'keys',
      source: q.kmsRequests,
    },
    {
      // Shared by every symmetric key in the account and Region: 100,000 a second in
      // us-east-1, us-west-2 and eu-west-1, 20,000 in six more, 10,000 elsewhere.
      name: 'KMS symmetric cryptographic requests (us-east-1)',
      used: Math.ceil(peakCallsPerSecond * kmsPerCall),
      quota: 100_000,
      adjustable: true,
      unit: 'per second',
      source: q.kmsRequests,
    },
    {
      name: 'Secrets Manager secrets per Region',
      used: Math.ceil(mix.paid * w.secretsPerTenant) + 1,
      quota: 500_000,
      adjustable: true,
      unit: 'secrets',
      source: q.secrets,
    },
    {
      name: 'Cognito users per user pool',
      used: Math.ceil(w.tenants * w.usersPerTenant),
      quota: 40_000_000,
      adjustable: true,
      unit: 'users',
      source: q.cognito,
    },
    {
      // SignUp, ConfirmSignUp and the admin creations share 50 a second; the daily cap keeps
      // self sign-ups far below it.
      name: 'Cognito UserCreation requests (at the cap)',
      used: Math.ceil(((2 * f.signupCap) / SECONDS_PER_DAY) * w.peakToAverage),
      quota: 50,
      adjustable: true,
      unit: 'per second',
      source: q.cognito,
    },
    {
      // 2,500 environments (active or idle) per 1,000 of the function's concurrency: each
      // isolated tenant holds at least one while it is warm, the pools their peak concurrency.
      name: 'Lambda tenant-isolated environments',
      used: mix.premium + pooledEnvironments,
      quota: Math.floor(2.5 * w.lambdaConcurrency),
      adjustable: true,
      unit: 'environments',
      source: q.lambdaIsolation,
    },
    {
      name: 'Lambda concurrent executions',
      used: peakConcurrency,
      quota: w.lambdaConcurrency,
      adjustable: true,
      unit: 'executions',
      source: q.lambdaLimits,
    },
    {
      name: 'API Gateway requests per Region',
      used: Math.ceil(peakCallsPerSecond),
      quota: 10_000,
      adjustable: true,
      unit: 'per second',
      source: q.apiGatewayAccount,
    },
    {
      name: 'DynamoDB write units per on-demand table',
      used: Math.ceil(peakCallsPerSecond * w.writeShare),
      quota: 40_000,
      adjustable: true,
      unit: 'per second',
      source: q.dynamodb,
    },
  ];
}

/** Whether the tenants fit in one Region: no quota exceeded that cannot be raised. */
export function fitsInOneRegion(rows: QuotaRow[]): boolean {
  return rows.every((row) => quotaStatus(row) !== 'exceeds');
}

/** The most paying tenants one Region holds: API keys cannot be raised past 10,000. */
export function maxPaidTenantsPerRegion(): number {
  return 10_000 - POOLED_TIERS.length;
}
