import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';

/**
 * Powertools for every handler, under one service name (`POWERTOOLS_SERVICE_NAME`, set on each
 * function by the CDK app): the logger, the metrics (CloudWatch embedded metric format) and
 * the tracer (X-Ray; off outside Lambda).
 */
export const logger = new Logger();

/** The CloudWatch namespace of the application's metrics (the dashboard reads it too). */
export const METRICS_NAMESPACE = 'MultiTenantMcp';
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE });
export const tracer = new Tracer();

/**
 * Application metrics. Dimensions are the tier and the tool at most, never the tenant or the
 * user: thousands of tenants would be thousands of metrics to pay for. Per-tenant questions
 * are answered from logs and the usage table.
 */
export const METRIC = {
  /** A tool call that reached its tool, by tier and tool; with ToolError and ToolDuration. */
  toolCall: 'ToolCall',
  toolError: 'ToolError',
  toolDuration: 'ToolDuration',
  /** Requests refused by the per-user limit, by tier. */
  userRateLimited: 'UserRateLimited',
  /** Tool calls refused because the tenant's monthly budget is spent, by tier. */
  budgetExhausted: 'BudgetExhausted',
  /** A request the code recognised as reaching for another tenant (service only: alarmed). */
  crossTenantAttempt: 'CrossTenantAttempt',
  /** Tokens the authorizer refused (401) or denied (403) (service only: alarmed). */
  authorizerRefused: 'AuthorizerRefused',
  authorizerDenied: 'AuthorizerDenied',
  /** The usage table could not be reached, so limits were not applied (service only: alarmed). */
  fairUseUnavailable: 'FairUseUnavailable',
  /**
   * Self sign-ups so far today, the day's counter after each one (service only: its Maximum is
   * alarmed at 80 % of the daily cap); SignUpCapReached counts the refusals past the cap, and
   * SignUpCapUnavailable the sign-ups let through because the counter could not be reached.
   */
  selfSignUpsToday: 'SelfSignUpsToday',
  signUpCapReached: 'SignUpCapReached',
  signUpCapUnavailable: 'SignUpCapUnavailable',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Emits one metric now, with the service dimension and the given ones. */
export function emitMetric(
  name: MetricName,
  value = 1,
  dimensions: Record<string, string> = {},
  unit: (typeof MetricUnit)[keyof typeof MetricUnit] = MetricUnit.Count,
): void {
  const single = metrics.singleMetric();
  if (Object.keys(dimensions).length > 0) single.addDimensions(dimensions);
  single.addMetric(name, unit, value);
}

// One instance for the per-call metrics, reused: a `singleMetric()` per metric reads the
// environment and writes a line each time, which the bench showed on every call's path.
const toolCallMetrics = new Metrics({ namespace: METRICS_NAMESPACE });

/**
 * A tool call that ran, by tier and tool, with its duration and whether it failed: one EMF line
 * with the two or three metrics. Synchronous from the first add to the publish, so concurrent
 * requests of one process cannot mix their dimensions.
 */
export function emitToolCall(
  tier: string,
  tool: string,
  outcome: 'ok' | 'error',
  durationMs: number,
): void {
  toolCallMetrics.addDimensions({ tier, tool });
  toolCallMetrics.addMetric(METRIC.toolCall, MetricUnit.Count, 1);
  if (outcome !== 'ok') toolCallMetrics.addMetric(METRIC.toolError, MetricUnit.Count, 1);
  toolCallMetrics.addMetric(METRIC.toolDuration, MetricUnit.Milliseconds, durationMs);
  toolCallMetrics.publishStoredMetrics();
}

/**
 * The middleware every handler starts with: the logger's Lambda context, cleared between
 * invocations so one tenant's keys never reach the next one's lines, and the correlation id
 * (for API requests, API Gateway's request id, which its access log carries too); a trace
 * segment without the response (it may hold tenant data); the cold-start metric.
 */
export function observed<Event>(
  options: { correlationId?: (event: Event) => string | undefined } = {},
): MiddlewareObj<Event>[] {
  return [
    injectLambdaContext(logger, { clearState: true }) as MiddlewareObj<Event>,
    {
      before: (request) => {
        const id = options.correlationId?.(request.event);
        if (id) logger.setCorrelationId(id);
        metrics.captureColdStartMetric();
      },
    },
    captureLambdaHandler(tracer, { captureResponse: false }) as MiddlewareObj<Event>,
  ];
}

/** The correlation id of an API Gateway proxy request: its request id. */
export const apiRequestId = (event: { requestContext?: { requestId?: string } }) =>
  event.requestContext?.requestId;

/** The error fields worth a log line: never the whole object (it may hold request data). */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  return {
    errorName: error.name,
    errorMessage: error.message,
    stack: error.stack,
    ...(error.cause instanceof Error
      ? { causeName: error.cause.name, causeMessage: error.cause.message }
      : {}),
  };
}

/**
 * Puts attributes on the current trace segment: as metadata under their OpenTelemetry-style
 * names (`mcp.method.name`), and as annotations, which X-Ray indexes for filtering, with the
 * dots made underscores (annotation keys allow letters, digits and underscores only).
 */
export function annotateTrace(attributes: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    tracer.putAnnotation(name.replace(/[^A-Za-z0-9_]/g, '_'), value);
    tracer.putMetadata(name, value);
  }
}
