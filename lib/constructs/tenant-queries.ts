import { QueryString } from 'aws-cdk-lib/aws-logs';
import { USAGE_RECORD } from '../../lambda/shared/fair-use/usage-record.js';
import { TenantIdSchema } from '../../lambda/shared/tenancy/tenant.js';

/**
 * What an operator replaces in a saved query (Logs Insights has no parameters). No tenant id
 * has capitals or an underscore, so a query run as saved matches nothing rather than a tenant.
 */
export const TENANT_PLACEHOLDER = 'TENANT_ID';

/** The log groups a query reads, by the function that writes them. */
export type TenantQuerySource = 'mcp' | 'authorizer' | 'provisioner';

export type TenantQueryName = 'latency' | 'errors' | 'usage' | 'security';

export interface TenantQuery {
  /** The last part of its saved name, `<stack>/tenant/<name>`. */
  readonly name: TenantQueryName;
  /** What it answers, for the dashboard. */
  readonly summary: string;
  readonly sources: readonly TenantQuerySource[];
  readonly query: QueryString;
}

/** The folder the saved queries appear under in Logs Insights. */
export const tenantQueryFolder = (stackName: string) => `${stackName}/tenant`;

// The log messages below are written by the handlers (lambda/mcp/http.ts,
// lambda/mcp/features/feature.ts, lambda/authorizer/authorize.ts); observability.test.ts
// checks that each is still there.
export const ANSWERED_MESSAGE = 'MCP request answered';
export const FOREIGN_ORIGIN_MESSAGE = 'Foreign Origin refused';
/** The authorizer's denials of a verified token (earlier refusals name no tenant). */
export const DENIED_MESSAGE_PREFIX = 'Denied:';

/**
 * Per-tenant drill-down from the logs, where every line of a request carries `tenantId`: the
 * metrics stop at tier and tool, since a tenant dimension would be a metric per tenant to pay
 * for. Built for the placeholder (the saved queries), or for one tenant, whose id is checked
 * first so that it cannot change the query around it.
 */
export function tenantQueries(tenantId: string = TENANT_PLACEHOLDER): readonly TenantQuery[] {
  if (tenantId !== TENANT_PLACEHOLDER) TenantIdSchema.parse(tenantId);
  const tenant = `tenantId = "${tenantId}"`;
  return [
    {
      name: 'latency',
      summary: 'p50, p90, p99 and count of request durations per method and tool, in 5-minute bins',
      sources: ['mcp'],
      query: new QueryString({
        filterStatements: [`message = "${ANSWERED_MESSAGE}"`, tenant],
        statsStatements: [
          'count(*) as requests, pct(durationMs, 50) as p50, pct(durationMs, 90) as p90, ' +
            'pct(durationMs, 99) as p99 by bin(5m) as period, mcpMethod, tool',
        ],
        sort: 'period desc',
      }),
    },
    {
      name: 'errors',
      summary:
        'ERROR and WARN lines and requests answered with a status of 400 or more or an error, newest first',
      sources: ['mcp', 'authorizer', 'provisioner'],
      query: new QueryString({
        fields: [
          '@timestamp',
          'level',
          'message',
          'mcpMethod',
          'tool',
          'status',
          'outcome',
          'errorName',
          'errorMessage',
          'reason',
          'correlation_id',
          'function_request_id',
          'user',
          '@log',
        ],
        filterStatements: [
          tenant,
          // The usage records repeat what the answered line says: they are the usage query's.
          'not ispresent(record)',
          'level in ["ERROR", "WARN"] or status >= 400 or outcome = "error"',
        ],
        sort: '@timestamp desc',
        limit: 200,
      }),
    },
    {
      name: 'usage',
      summary: 'metered calls (usage records) per tool or method and day, with their errors',
      sources: ['mcp'],
      query: new QueryString({
        // strcontains gives 1 or 0: outcome is "ok" or "error".
        fields: ['strcontains(outcome, "error") as failed'],
        filterStatements: [`record = "${USAGE_RECORD}"`, tenant],
        statsStatements: [
          'count(*) as calls, sum(failed) as errors, pct(durationMs, 50) as p50 ' +
            'by bin(1d) as day, name as tool',
        ],
        sort: 'day desc',
      }),
    },
    {
      name: 'security',
      summary:
        'cross-tenant attempts, authorizer denials and refused browser origins, newest first',
      sources: ['mcp', 'authorizer'],
      query: new QueryString({
        fields: [
          '@timestamp',
          'level',
          'message',
          'securityEvent',
          'tool',
          'origin',
          'agentState',
          'tenantStatus',
          'clientId',
          'agentId',
          'user',
          'correlation_id',
          'function_request_id',
          '@log',
        ],
        filterStatements: [
          tenant,
          `ispresent(securityEvent) or message like /^${DENIED_MESSAGE_PREFIX}/ or ` +
            `message = "${FOREIGN_ORIGIN_MESSAGE}"`,
        ],
        sort: '@timestamp desc',
        limit: 200,
      }),
    },
  ];
}
