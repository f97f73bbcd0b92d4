/**
 * The tenant tiers: the one place that says what each tier may do and how much.
 *
 * Read by the CDK app (usage plans: rate, burst, quota), the MCP handler (per-user limits and
 * the monthly budget) and the local gateway (the same limits, enforced locally). Change a
 * number here and every layer follows. Which tools a tier gets is said by each tool (its
 * `minTier`, lambda/mcp/features/): the tiers are ordered as TIER_NAMES lists them.
 */

export const TIER_NAMES = ['free', 'standard', 'premium'] as const;
export type TierName = (typeof TIER_NAMES)[number];

export interface TierDefinition {
  readonly name: TierName;
  /** Shown to people (tenant_info, admin CLI). */
  readonly displayName: string;
  /**
   * Per-tenant steady-state request rate and burst, applied by the tier's API Gateway usage
   * plan to the tenant's own API key.
   */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Per-tenant request quota per period, also from the usage plan. */
  readonly quota: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' };
  /**
   * Per-user limit inside the tenant, counted by the MCP handler: MCP requests per window, so
   * one user (or one runaway agent) cannot use up the whole tenant's rate.
   */
  readonly perUser: { readonly requests: number; readonly windowSeconds: number };
  /**
   * Tool calls a tenant may make per calendar month (UTC); past it, calls are refused until the
   * month ends. The guard against a runaway client turning into a runaway bill.
   */
  readonly monthlyToolCalls: number;
}

export const TIERS: Readonly<Record<TierName, TierDefinition>> = {
  free: {
    name: 'free',
    displayName: 'Free',
    throttle: { rateLimit: 5, burstLimit: 10 },
    quota: { limit: 1_000, period: 'DAY' },
    perUser: { requests: 60, windowSeconds: 60 },
    monthlyToolCalls: 10_000,
  },
  standard: {
    name: 'standard',
    displayName: 'Standard',
    throttle: { rateLimit: 25, burstLimit: 50 },
    quota: { limit: 50_000, period: 'DAY' },
    perUser: { requests: 600, windowSeconds: 60 },
    monthlyToolCalls: 1_000_000,
  },
  premium: {
    name: 'premium',
    displayName: 'Premium',
    throttle: { rateLimit: 100, burstLimit: 200 },
    quota: { limit: 1_000_000, period: 'DAY' },
    perUser: { requests: 1_800, windowSeconds: 60 },
    monthlyToolCalls: 20_000_000,
  },
};

export function isTierName(value: unknown): value is TierName {
  return typeof value === 'string' && (TIER_NAMES as readonly string[]).includes(value);
}

/** The tier's definition; throws for a name that is not a tier (never falls back to one). */
export function getTier(name: string): TierDefinition {
  if (!isTierName(name)) {
    throw new Error(`Unknown tier "${name}". Known tiers: ${TIER_NAMES.join(', ')}`);
  }
  return TIERS[name];
}
