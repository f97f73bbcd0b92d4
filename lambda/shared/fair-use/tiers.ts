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
  /**
   * Where the tier's tenants keep their keys and how they are throttled:
   * - `pooled`: no resource of their own that costs money. Their fields are sealed under a data
   *   key of their own, wrapped by the one pooled KMS key (bound to the tenant by encryption
   *   context and session tag); they share the tier's one API key, whose usage plan (`pool`)
   *   caps the tier as a whole, and the MCP function throttles each of them (`throttle`,
   *   `quota`) with its counters.
   * - `dedicated`: their own KMS key and their own API key in the tier's usage plan, which
   *   throttles each of them (`throttle`, `quota`); made when they join or move up the tier.
   */
  readonly resources: 'pooled' | 'dedicated';
  /**
   * For a pooled tier: the rate its usage plan allows all its tenants together, through its
   * one shared API key; the ceiling that keeps the tier from slowing any other. No quota: one
   * tenant's flood (which API Gateway counts before the MCP function refuses it) must not use
   * up a day's quota for the whole tier.
   */
  readonly pool?: {
    readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  };
  /**
   * Where the tier's requests run: `pooled` in execution environments its tenants share, or
   * `isolated` in environments of the tenant's own (Lambda tenant isolation mode, PER_TENANT),
   * so no warm environment ever serves two of its tenants.
   */
  readonly execution: 'pooled' | 'isolated';
}

export const TIERS: Readonly<Record<TierName, TierDefinition>> = {
  free: {
    name: 'free',
    displayName: 'Free',
    throttle: { rateLimit: 5, burstLimit: 10 },
    quota: { limit: 1_000, period: 'DAY' },
    perUser: { requests: 60, windowSeconds: 60 },
    monthlyToolCalls: 10_000,
    resources: 'pooled',
    pool: { throttle: { rateLimit: 500, burstLimit: 1_000 } },
    execution: 'pooled',
  },
  standard: {
    name: 'standard',
    displayName: 'Standard',
    throttle: { rateLimit: 25, burstLimit: 50 },
    quota: { limit: 50_000, period: 'DAY' },
    perUser: { requests: 600, windowSeconds: 60 },
    monthlyToolCalls: 1_000_000,
    resources: 'dedicated',
    execution: 'pooled',
  },
  premium: {
    name: 'premium',
    displayName: 'Premium',
    throttle: { rateLimit: 100, burstLimit: 200 },
    quota: { limit: 1_000_000, period: 'DAY' },
    perUser: { requests: 1_800, windowSeconds: 60 },
    monthlyToolCalls: 20_000_000,
    resources: 'dedicated',
    execution: 'isolated',
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

/**
 * What the tier's usage plan enforces: a dedicated tier's per-tenant rate, burst and quota
 * (each tenant's own API key), or a pooled tier's rate and burst for the whole tier.
 */
export function usagePlanLimits(tier: TierDefinition): {
  throttle: TierDefinition['throttle'];
  quota?: TierDefinition['quota'];
} {
  return tier.resources === 'pooled' && tier.pool
    ? { throttle: tier.pool.throttle }
    : { throttle: tier.throttle, quota: tier.quota };
}

/**
 * The Lambda tenant id a request of this tenant runs under (`X-Amz-Tenant-Id`): the tenant's
 * own for an isolated tier, the tier's pool otherwise. The two forms cannot collide: a tenant id
 * has no colon (lambda/shared/tenancy/tenant.ts).
 */
export function executionTenantOf(tenantId: string, tier: TierName): string {
  return TIERS[tier].execution === 'isolated' ? `tenant:${tenantId}` : `pool:${tier}`;
}
