import type { Logger } from '@aws-lambda-powertools/logger';
import type { BudgetTicket, MonthlyBudget } from '../shared/fair-use/monthly-budget.js';
import { TIERS } from '../shared/fair-use/tiers.js';
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
 * The per-tenant layer is API Gateway's usage plan and the global one is stage throttling;
 * neither reaches this code. If the usage table cannot be reached, requests are let through
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
    if (!isBudgeted(context, message)) return { admitted: true, rate };

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
    return { admitted: true, rate, ...(spend ? { budget: spend } : {}) };
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
 * Whether a request takes a unit of the monthly budget: tenant work, and for a tool call a tool
 * this caller can see (a call of any other tool is refused by the SDK before anything runs).
 */
function isBudgeted(context: TenantContext, message: McpMessage): boolean {
  if (!message.tenantWork) return false;
  if (message.method !== 'tools/call') return true;
  return servedTo(context).tools.some((tool) => tool.name === message.tool);
}
