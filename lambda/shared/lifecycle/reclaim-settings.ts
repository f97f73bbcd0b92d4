/**
 * The defaults of idle-tenant reclaiming (lambda/shared/lifecycle/reclaim.ts), named once for the
 * CDK app's settings (`-c idleFreeTenantDays`, `-c reclaimNoticeDays`) and the function's own.
 */
export const RECLAIM_DEFAULTS = {
  /** Days without a tool call (or a change to its record) before a free tenant is noticed. */
  idleDays: 90,
  /** Days from the notice to the earliest removal. */
  noticeDays: 14,
  /** Tenants noticed or reclaimed per daily run; the rest wait for the next day. */
  maxTenantsPerRun: 100,
} as const;
