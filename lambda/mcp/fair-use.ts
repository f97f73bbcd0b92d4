import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { MonthlyBudget } from '../shared/fair-use/monthly-budget.js';
import type { CallOutcome, UsageMeter } from '../shared/fair-use/usage-meter.js';
import type { UserRateLimit } from '../shared/fair-use/user-rate-limit.js';
import { emitMetric, errorFields, METRIC } from '../shared/observability.js';
import type { TenantContext } from '../shared/tenant-context.js';
import { TIERS } from '../shared/tiers.js';
import { toolsFor } from './tools/index.js';

/** What the gate needs to know of a request: its JSON-RPC method and, for a call, the tool. */
export interface McpCall {
  readonly method?: string;
  readonly tool?: string;
  readonly id?: string | number | null;
}

/** A request the gate let through; settle it with how it ended. */
export interface Admitted {
  readonly admitted: true;
  /** The tool whose call was counted against the budget, if it was a tool call. */
  readonly tool?: string;
  readonly startedAt: number;
}

/** A request the gate refused: answered 429, with when to retry and why (no tenant named). */
export interface Refused {
  readonly admitted: false;
  readonly retryAfterSeconds: number;
  readonly message: string;
}

export type GateAnswer = Admitted | Refused;

/**
 * The MCP handler's share of fair use, before and after each request:
 * - the per-user rate limit on every request (429 with `Retry-After`);
 * - the tenant's monthly tool-call budget on every call of a tool the caller can see (429
 *   with `Retry-After` until the month ends);
 * - metering of every such call: tenant, tool, day, outcome and duration.
 * The per-tenant layer is API Gateway's usage plan and the global one is stage throttling;
 * neither reaches this code. If the usage table cannot be reached, requests are let through
 * (the usage plan still bounds each tenant) and the failure is logged as an error.
 */
export class FairUseGate {
  constructor(
    private readonly deps: {
      rateLimit: UserRateLimit;
      budget: MonthlyBudget;
      meter: UsageMeter;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  async admit(context: TenantContext, call: McpCall): Promise<GateAnswer> {
    const { rateLimit, budget, logger } = this.deps;
    const tier = TIERS[context.tier];
    const startedAt = (this.deps.now ?? Date.now)();
    const tool =
      call.method === 'tools/call' && toolsFor(context).some((t) => t.name === call.tool)
        ? call.tool
        : undefined;

    // Both counters at once; a budget unit taken for a request the rate limit refuses is
    // given back, so the budget counts only calls that were served.
    const [rate, spend] = await Promise.all([
      rateLimit.consume(context.tenantId, context.user, tier.perUser).catch((error: unknown) => {
        logger.error('Per-user rate limit unavailable; request let through', errorFields(error));
        emitMetric(METRIC.fairUseUnavailable);
        return { allowed: true } as const;
      }),
      tool === undefined
        ? undefined
        : budget.spend(context.tenantId, tier.monthlyToolCalls).catch((error: unknown) => {
            logger.error('Tool-call budget unavailable; call let through', errorFields(error));
            emitMetric(METRIC.fairUseUnavailable);
            return undefined;
          }),
    ]);

    if (!rate.allowed) {
      if (spend?.allowed) {
        await budget
          .refund(context.tenantId, spend.month, spend.shard)
          .catch((error: unknown) =>
            logger.warn('Could not give back a budget unit', errorFields(error)),
          );
      }
      emitMetric(METRIC.userRateLimited, 1, { tier: context.tier });
      logger.warn('Per-user rate limit reached', {
        limit: tier.perUser.requests,
        windowSeconds: tier.perUser.windowSeconds,
        retryAfterSeconds: rate.retryAfterSeconds,
      });
      return {
        admitted: false,
        retryAfterSeconds: rate.retryAfterSeconds,
        message: `Too many requests from this user: at most ${tier.perUser.requests} every ${tier.perUser.windowSeconds} s. Retry after ${rate.retryAfterSeconds} s.`,
      };
    }
    if (spend && !spend.allowed) {
      emitMetric(METRIC.budgetExhausted, 1, { tier: context.tier });
      logger.warn('Monthly tool-call budget spent', { limit: tier.monthlyToolCalls });
      return {
        admitted: false,
        retryAfterSeconds: spend.retryAfterSeconds,
        message: `This organisation's monthly tool-call budget (${tier.monthlyToolCalls}) is spent; calls resume next month.`,
      };
    }
    return { admitted: true, ...(tool === undefined ? {} : { tool }), startedAt };
  }

  /** Meters a counted tool call; a failure to meter is logged, never shown to the caller. */
  async settle(context: TenantContext, admitted: Admitted, outcome: CallOutcome): Promise<number> {
    const durationMs = (this.deps.now ?? Date.now)() - admitted.startedAt;
    if (admitted.tool !== undefined) {
      await this.deps.meter
        .record({ tenantId: context.tenantId, tool: admitted.tool, outcome, durationMs })
        .catch((error: unknown) =>
          this.deps.logger.error('Could not meter a tool call', errorFields(error)),
        );
    }
    return durationMs;
  }
}

/** The method, tool and id of a JSON-RPC request body; nothing if it is not one. */
export function peekCall(body: Buffer): McpCall {
  try {
    const message = JSON.parse(body.toString('utf8')) as {
      method?: unknown;
      id?: unknown;
      params?: { name?: unknown };
    };
    if (message === null || typeof message !== 'object') return {};
    // The client chose these strings: cut them short before they reach a log line or a trace.
    return {
      ...(typeof message.method === 'string' ? { method: message.method.slice(0, 100) } : {}),
      ...(typeof message.params?.name === 'string'
        ? { tool: message.params.name.slice(0, 100) }
        : {}),
      ...(typeof message.id === 'string' || typeof message.id === 'number'
        ? { id: message.id }
        : {}),
    };
  } catch {
    return {};
  }
}

/** How an answered call ended, read from the JSON-RPC response. */
export function outcomeOf(result: APIGatewayProxyResult): CallOutcome {
  if (result.statusCode !== 200) return 'refused';
  try {
    const body = JSON.parse(result.body) as { error?: unknown; result?: { isError?: unknown } };
    if (body.error !== undefined) return 'refused';
    return body.result?.isError === true ? 'error' : 'ok';
  } catch {
    return 'error';
  }
}
