/**
 * API Gateway's usage-plan enforcement for one API key, as the local gateway applies it:
 * throttling by a token bucket (the plan's rate per second, holding at most its burst) and a
 * quota per period (DAY, WEEK or MONTH, counted from the start of the UTC day, Monday or
 * month). A throttled request does not count against the quota. On AWS this is best-effort
 * and distributed; here it is exact, which is what tests want.
 */
export interface PlanLimits {
  readonly throttle?: { readonly rateLimit?: number; readonly burstLimit?: number };
  readonly quota?: { readonly limit?: number; readonly period?: string };
}

export type PlanVerdict = 'allowed' | 'THROTTLED' | 'QUOTA_EXCEEDED';

export class UsagePlanLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly quotas = new Map<string, { periodStart: number; used: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  admit(keyId: string, plan: PlanLimits): PlanVerdict {
    const now = this.now();
    const rate = plan.throttle?.rateLimit;
    if (rate !== undefined && rate > 0) {
      const burst = Math.max(1, plan.throttle?.burstLimit ?? rate);
      const bucket = this.buckets.get(keyId) ?? { tokens: burst, at: now };
      const tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      if (tokens < 1) {
        this.buckets.set(keyId, { tokens, at: now });
        return 'THROTTLED';
      }
      this.buckets.set(keyId, { tokens: tokens - 1, at: now });
    }
    const limit = plan.quota?.limit;
    if (limit !== undefined && limit > 0) {
      const periodStart = startOfPeriod(now, plan.quota?.period ?? 'DAY');
      const quota = this.quotas.get(keyId);
      const used = quota?.periodStart === periodStart ? quota.used : 0;
      if (used >= limit) return 'QUOTA_EXCEEDED';
      this.quotas.set(keyId, { periodStart, used: used + 1 });
    }
    return 'allowed';
  }
}

function startOfPeriod(epochMs: number, period: string): number {
  const date = new Date(epochMs);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (period === 'MONTH') return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  if (period === 'WEEK') return day - ((date.getUTCDay() + 6) % 7) * 86_400_000;
  return day;
}
