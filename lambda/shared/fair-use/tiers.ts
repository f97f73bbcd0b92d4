/**
 * The tenant tiers: the one place that says what each tier may do and how much.
 *
 * Read by the CDK app (usage plans: rate, burst, quota), the authorizer and the MCP handler
 * (which tools a tenant may see), and the local gateway (the same limits, enforced locally).
 * Change a number here and every layer follows.
 */

/** Every MCP tool the server can expose. A tier lists the subset its tenants may call. */
export const TOOL_NAMES = [
  'whoami',
  'notes_create',
  'notes_get',
  'notes_list',
  'notes_search',
  'notes_delete',
  'tenant_info',
  'tenant_users_list',
  'tenant_users_invite',
  'tenant_users_set_role',
  'tenant_users_remove',
  'tenant_invitations_list',
  'tenant_invitations_revoke',
  'integrations_set',
  'notes_publish',
  'usage_report',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

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
  /** The MCP tools this tier's tenants may list and call. */
  readonly tools: readonly ToolName[];
}

const BASIC_TOOLS: readonly ToolName[] = [
  'whoami',
  'notes_create',
  'notes_get',
  'notes_list',
  'notes_delete',
  'tenant_info',
  'tenant_users_list',
  'tenant_users_invite',
  'tenant_users_set_role',
  'tenant_users_remove',
  'tenant_invitations_list',
  'tenant_invitations_revoke',
  'usage_report',
];

export const TIERS: Readonly<Record<TierName, TierDefinition>> = {
  free: {
    name: 'free',
    displayName: 'Free',
    throttle: { rateLimit: 5, burstLimit: 10 },
    quota: { limit: 1_000, period: 'DAY' },
    perUser: { requests: 60, windowSeconds: 60 },
    monthlyToolCalls: 10_000,
    tools: BASIC_TOOLS,
  },
  standard: {
    name: 'standard',
    displayName: 'Standard',
    throttle: { rateLimit: 25, burstLimit: 50 },
    quota: { limit: 50_000, period: 'DAY' },
    perUser: { requests: 600, windowSeconds: 60 },
    monthlyToolCalls: 1_000_000,
    tools: [...BASIC_TOOLS, 'notes_search', 'integrations_set', 'notes_publish'],
  },
  premium: {
    name: 'premium',
    displayName: 'Premium',
    throttle: { rateLimit: 100, burstLimit: 200 },
    quota: { limit: 1_000_000, period: 'DAY' },
    perUser: { requests: 1_800, windowSeconds: 60 },
    monthlyToolCalls: 20_000_000,
    tools: [...BASIC_TOOLS, 'notes_search', 'integrations_set', 'notes_publish'],
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

export function tierAllowsTool(tier: TierName, tool: string): tool is ToolName {
  return (TIERS[tier].tools as readonly string[]).includes(tool);
}
