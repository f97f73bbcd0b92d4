import type { Logger } from '@aws-lambda-powertools/logger';
import type { BudgetTicket, MonthlyBudget } from '../shared/fair-use/monthly-budget.js';
import { TIERS, type TierDefinition } from '../shared/fair-use/tiers.js';
import type { RateTicket, UserRateLimit } from '../shared/fair-use/user-rate-limit.js';
import { emitMetric, errorFields, METRIC } from '../shared/platform/observability.js';
import type { TenantContext } from '../shared/tenancy/context.js';
import { servedTo } from './features/index.js';
import type { McpMessage } from './message.js';

/** A request the gate let through; settle it once it is answered. */
export interface Admitted {
  readonly admitted: true;
  /** The per-user window the request was counted in. */
  readonly rate: RateTicket;
  /** A pooled tier's tenant: the per-tenant windows (rate, and the day's quota) it was counted in. */
  readonly tenantRates?: ReadonlyArray<TenantWindow & { readonly ticket: RateTicket }>;
  /** The month a unit of the budget was taken from (tenant work the caller can reach). */
  readonly budget?: BudgetTicket;
}

/** A request the gate refused: answered 429, with when to retry and why (no tenant named). */
export interface Refused {
  readonly admitted: false;
  readonly retryAfterSeconds: number;
  readonly message: string;
  /** Which limit refused it, for the audit record. */
  readonly reason: 'rate-limited' | 'budget-spent';
}

export type GateAnswer = Admitted | Refused;

/**
 * The MCP handler's share of fair use, before and after each request:
 * - the per-user rate limit on every request (429 with `Retry-After`);
 * - the tenant's monthly budget on every request for tenant work (a tool the caller can see, a
 *   resource read or list, a prompt), 429 with `Retry-After` until the month ends.
 * Both are counted in memory and written one block at a time (see reconciled-count.ts), so a
 * call costs no round trip to decide. Every request that reaches the gate counts against its
 * user's window (each one spent the tenant's usage plan); a budget unit taken for a request that
 * is then not served (the SDK refused it, or it never reached a handler) is given back.
 * Metering is not done here: each served call writes a usage record to the log (http.ts).
 * The per-tenant layer is API Gateway's usage plan for a dedicated tier's tenant (its own API
 * key), and this gate for a pooled tier's (see tenantWindows); the global one is stage
 * throttling. If the usage table cannot be reached, requests are let through
 * (the usage plan still bounds each tenant) and the failure is logged as an error.
 */
export class FairUseGate {
  constructor(
    private readonly deps: {
      rateLimit: UserRateLimit;
      budget: MonthlyBudget;
      logger: Logger;
    },
  ) {}

  async admit(context: TenantContext, message: McpMessage): Promise<GateAnswer> {
    const { rateLimit, budget, logger } = this.deps;
    const tier = TIERS[context.tier];
    // A pooled tier's tenant shares its tier's API key, so API Gateway's usage plan limits the
    // tier, not the tenant: the tenant's own rate and daily quota are counted here.
    const tenantRates: Array<TenantWindow & { ticket: RateTicket }> = [];
    for (const window of tenantWindows(context)) {
      const taken = rateLimit.take(context.tenantId, window.key, window.limit);
      if (!taken.allowed) {
        emitMetric(METRIC.userRateLimited, 1, { tier: context.tier });
        logger.warn('Per-tenant limit of a pooled tier reached', {
          window: window.key,
          limit: window.limit.requests,
          windowSeconds: window.limit.windowSeconds,
          retryAfterSeconds: taken.retryAfterSeconds,
        });
        // The requests already counted in the other window stay counted (they spent it).
        return {
          admitted: false,
          reason: 'rate-limited',
          retryAfterSeconds: taken.retryAfterSeconds,
          message: `Too many requests from this organisation: at most ${window.limit.requests} every ${window.limit.windowSeconds} s on the ${tier.displayName} tier. Retry after ${taken.retryAfterSeconds} s.`,
        };
      }
      tenantRates.push({ ...window, ticket: taken });
    }
    const rate = rateLimit.take(context.tenantId, context.user, tier.perUser);
    if (!rate.allowed) {
      emitMetric(METRIC.userRateLimited, 1, { tier: context.tier });
      logger.warn('Per-user rate limit reached', {
        limit: tier.perUser.requests,
        windowSeconds: tier.perUser.windowSeconds,
        retryAfterSeconds: rate.retryAfterSeconds,
      });
      return {
        admitted: false,
        reason: 'rate-limited',
        retryAfterSeconds: rate.retryAfterSeconds,
        message: `Too many requests from this user: at most ${tier.perUser.requests} every ${tier.perUser.windowSeconds} s. Retry after ${rate.retryAfterSeconds} s.`,
      };
    }
    const counted = { rate, ...(tenantRates.length ? { tenantRates } : {}) };
    if (!isBudgeted(context, message)) return { admitted: true, ...counted };

    const spend = await budget
      .take(context.tenantId, tier.monthlyToolCalls)
      .catch((error: unknown) => {
        logger.error('Tool-call budget unavailable; call let through', errorFields(error));
        emitMetric(METRIC.fairUseUnavailable);
        return undefined;
      });
    if (spend && !spend.allowed) {
      // The request still counts against the user's window; it is written with the next one.
      emitMetric(METRIC.budgetExhausted, 1, { tier: context.tier });
      logger.warn('Monthly tool-call budget spent', { limit: tier.monthlyToolCalls });
      return {
        admitted: false,
        reason: 'budget-spent',
        retryAfterSeconds: spend.retryAfterSeconds,
        message: `This organisation's monthly tool-call budget (${tier.monthlyToolCalls}) is spent; calls resume next month.`,
      };
    }
    return { admitted: true, ...counted, ...(spend ? { budget: spend } : {}) };
  }

  /**
   * After the answer: gives back the budget unit of a call that was not served, and writes the
   * counts that are due (a full block, or a budget count held for 30 s). A failure to write is
   * logged, never shown to the caller; the counts stay pending for the next write.
   */
  async settle(context: TenantContext, admitted: Admitted, served: boolean): Promise<void> {
    const { rateLimit, budget, logger } = this.deps;
    const tier = TIERS[context.tier];
    if (admitted.budget && !served) budget.giveBack(admitted.budget);
    const writes = [
      rateLimit.reconcile(context.tenantId, context.user, tier.perUser, admitted.rate),
      ...(admitted.tenantRates ?? []).map(({ key, limit, ticket }) =>
        rateLimit.reconcile(context.tenantId, key, limit, ticket),
      ),
    ];
    if (admitted.budget) {
      writes.push(budget.reconcile(context.tenantId, tier.monthlyToolCalls, admitted.budget));
    }
    for (const result of await Promise.allSettled(writes)) {
      if (result.status === 'rejected') {
        logger.error('Could not write fair-use counts', errorFields(result.reason));
        emitMetric(METRIC.fairUseUnavailable);
      }
    }
  }
}

/**
 * The per-tenant windows of a pooled tier's tenant, from its tier's `throttle` and `quota`: its
 * rate over ten seconds (a burst of at most ten seconds' worth) and its requests a UTC day.
 * Keyed apart from every user (`*` is never a pseudonym). A dedicated tier's tenant has none:
 * its own API key's usage plan does this at API Gateway.
 */
interface TenantWindow {
  readonly key: string;
  readonly limit: TierDefinition['perUser'];
}

function tenantWindows(context: TenantContext): TenantWindow[] {
  const tier = TIERS[context.tier];
  if (tier.resources !== 'pooled') return [];
  const periodSeconds = { DAY: 86_400, WEEK: 604_800, MONTH: 2_592_000 }[tier.quota.period];
  return [
    { key: '*rate', limit: { requests: tier.throttle.rateLimit * 10, windowSeconds: 10 } },
    { key: '*quota', limit: { requests: tier.quota.limit, windowSeconds: periodSeconds } },
  ];
}

/**
 * Whether a request takes a unit of the monthly budget: tenant work, and for a tool call a tool
 * this caller can see (a call of any other tool is refused by the SDK before anything runs).
 */
function isBudgeted(context: TenantContext, message: McpMessage): boolean {
  if (!message.tenantWork) return false;
  if (message.method !== 'tools/call') return true;
  return servedTo(context).tools.some((tool) => tool.name === message.tool);
}
