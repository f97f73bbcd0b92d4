import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TenantIdSchema } from '../../lambda/shared/tenancy/tenant.js';
import {
  ANSWERED_MESSAGE,
  DENIED_MESSAGE_PREFIX,
  FOREIGN_ORIGIN_MESSAGE,
  TENANT_PLACEHOLDER,
  tenantQueries,
} from '../../lib/constructs/tenant-queries.js';
import { PROJECT_ROOT } from '../../local/process.js';
import { synthTemplate } from '../support/app.js';

const template = synthTemplate();
const alarms = template.findResources('AWS::CloudWatch::Alarm');
const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
const alarmNamed = (prefix: string) =>
  Object.entries(alarms).find(([id]) => id.startsWith(prefix))?.[1]?.Properties;
const dashboardBody = () =>
  JSON.stringify(
    Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
      .DashboardBody,
  );
/** The dashboard's widgets: the body's Fn::Join with every token (Ref, region) as `TOKEN`. */
const dashboardWidgets = (): { type: string; properties: Record<string, unknown> }[] => {
  const body = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
    .DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN'));
  return JSON.parse(text.join('')).widgets;
};
const queryDefinitions = template.findResources('AWS::Logs::QueryDefinition');
const queryNamed = (name: string) =>
  Object.values(queryDefinitions).find((query) => query.Properties.Name === name)?.Properties;
const logGroupId = (prefix: string) =>
  Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith(prefix));
const LOGS = {
  mcp: { Ref: logGroupId('McpApiMcpLogs') },
  authorizer: { Ref: logGroupId('McpApiAuthorizerLogs') },
  provisioner: { Ref: logGroupId('OnboardingProvisionerLogs') },
};

describe('observability construct', () => {
  it('alarms on any cross-tenant attempt the code detects', () => {
    const alarm = alarmNamed('ObservabilityCrossTenantAlarm');
    expect(alarm).toMatchObject({
      Namespace: 'MultiTenantMcp',
      MetricName: 'CrossTenantAttempt',
      Dimensions: [{ Name: 'service', Value: 'multi-tenant-mcp' }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('alarms on the error rate, throttles and authorizer denials, from metric math', () => {
    const errorRate = alarmNamed('ObservabilityErrorRateAlarm');
    const throttles = alarmNamed('ObservabilityThrottlesAlarm');
    const denials = alarmNamed('ObservabilityAuthorizerDenialsAlarm');

    expect(errorRate).toMatchObject({ Threshold: 5, EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    expect(JSON.stringify(errorRate?.Metrics)).toContain('5XXError');
    for (const metric of ['"Throttles"', '"UserRateLimited"', '"BudgetExhausted"']) {
      expect(JSON.stringify(throttles?.Metrics)).toContain(metric);
    }
    for (const tier of ['free', 'standard', 'premium']) {
      expect(JSON.stringify(throttles?.Metrics)).toContain(`"Value":"${tier}"`);
    }
    expect(JSON.stringify(denials?.Metrics)).toContain('AuthorizerDenied');
    expect(JSON.stringify(denials?.Metrics)).toContain('AuthorizerRefused');
  });

  it('sends every alarm, the dead-letter alarms included, to one topic over TLS only', () => {
    expect(Object.keys(alarms)).toHaveLength(8);
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synthTemplate({ alarmEmail: 'ops@example.com' }).hasResourceProperties(
      'AWS::SNS::Subscription',
      {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      },
    );
  });

  it('shows traffic, tools by tier and tool, fair use, security and onboarding on one dashboard', () => {
    const body = dashboardBody();
    for (const title of [
      'MCP API requests',
      'Tool calls by tier and tool',
      'Fair use: refusals by tier',
      'Security',
      'Onboarding',
    ]) {
      expect(body).toContain(title);
    }
    expect(body).toMatch(/SEARCH\('\{MultiTenantMcp,service,tier,tool\} MetricName=/);
  });

  it('never breaks metrics down by tenant or user', () => {
    const dimensionNames = JSON.stringify(alarms).match(/"Name":"[^"]+"/g) ?? [];
    expect(new Set(dimensionNames)).toEqual(
      new Set(
        ['service', 'tier', 'FunctionName', 'ApiName', 'Stage', 'QueueName'].map(
          (n) => `"Name":"${n}"`,
        ),
      ),
    );
    const searches = dashboardBody().match(/SEARCH\('\{[^}]+\}/g) ?? [];
    expect(searches).toHaveLength(3);
    for (const search of searches) expect(search).toContain('{MultiTenantMcp,service,tier,tool}');
  });

  it('puts no tenant in any metric of the dashboard or of a metric filter', () => {
    const metricWidgets = dashboardWidgets().filter((widget) => widget.type !== 'text');
    expect(metricWidgets.length).toBeGreaterThan(0);
    // A tenant dimension: `tenantId` (or `tenant_id`, `tenant`) as a metric array's dimension
    // name, in a SEARCH schema or as a metric filter's dimension.
    const tenantDimension = /tenant_?id|"tenant"|[{,]tenant[,}]/i;
    for (const widget of metricWidgets) {
      expect(JSON.stringify(widget.properties)).not.toMatch(tenantDimension);
    }
    for (const filter of Object.values(template.findResources('AWS::Logs::MetricFilter'))) {
      expect(JSON.stringify(filter.Properties.MetricTransformations)).not.toMatch(tenantDimension);
    }
  });
});

describe('per-tenant saved queries', () => {
  it("saves four queries in the stack's tenant folder, each over the logs it reads", () => {
    expect(Object.keys(queryDefinitions)).toHaveLength(4);
    expect(queryNamed('MultiTenantMcp/tenant/latency')?.LogGroupNames).toEqual([LOGS.mcp]);
    expect(queryNamed('MultiTenantMcp/tenant/errors')?.LogGroupNames).toEqual([
      LOGS.mcp,
      LOGS.authorizer,
      LOGS.provisioner,
    ]);
    expect(queryNamed('MultiTenantMcp/tenant/usage')?.LogGroupNames).toEqual([LOGS.mcp]);
    expect(queryNamed('MultiTenantMcp/tenant/security')?.LogGroupNames).toEqual([
      LOGS.mcp,
      LOGS.authorizer,
    ]);
  });

  it('filters every saved query on the tenant placeholder, which no tenant id can equal', () => {
    for (const query of Object.values(queryDefinitions)) {
      expect(query.Properties.QueryString).toContain(`| filter tenantId = "${TENANT_PLACEHOLDER}"`);
    }
    expect(TenantIdSchema.safeParse(TENANT_PLACEHOLDER).success).toBe(false);
  });

  it('refuses a tenant id that would rewrite the query around it', () => {
    expect(() => tenantQueries('acme" or tenantId != "')).toThrow();
    const [latency] = tenantQueries('acme');
    expect(latency?.query.toString()).toContain('| filter tenantId = "acme"');
  });

  it('reads latency percentiles per tool from the answered lines, in 5-minute bins', () => {
    template.hasResourceProperties('AWS::Logs::QueryDefinition', {
      Name: 'MultiTenantMcp/tenant/latency',
      QueryString: Match.stringLikeRegexp(
        'filter message = "MCP request answered"[\\s\\S]*stats count\\(\\*\\) as requests, ' +
          'pct\\(durationMs, 50\\) as p50, pct\\(durationMs, 90\\) as p90, ' +
          'pct\\(durationMs, 99\\) as p99 by bin\\(5m\\) as period, mcpMethod, tool',
      ),
    });
  });

  it('lists errors and refused requests newest first, with what finds the request, at most 200', () => {
    const query = queryNamed('MultiTenantMcp/tenant/errors')?.QueryString as string;
    expect(query).toContain(
      '| filter level in ["ERROR", "WARN"] or status >= 400 or outcome = "error"',
    );
    for (const field of ['@timestamp', 'level', 'message', 'tool', 'status', 'correlation_id']) {
      expect(query.split('\n')[0]).toContain(field);
    }
    expect(query).toMatch(/\| sort @timestamp desc\n\| limit 200$/);
  });

  it('counts usage records per tool and day, with their errors', () => {
    const query = queryNamed('MultiTenantMcp/tenant/usage')?.QueryString as string;
    expect(query).toContain('| filter record = "mcp-usage/1"');
    expect(query).toContain('sum(failed) as errors');
    expect(query).toContain('by bin(1d) as day, name as tool');
  });

  it('finds cross-tenant attempts and authorizer denials', () => {
    const query = queryNamed('MultiTenantMcp/tenant/security')?.QueryString as string;
    expect(query).toContain('ispresent(securityEvent) or message like /^Denied:/');
  });

  it('matches log messages the handlers still write', () => {
    const source = (path: string) => readFileSync(`${PROJECT_ROOT}/lambda/${path}`, 'utf8');
    expect(source('mcp/http.ts')).toContain(`logger.info('${ANSWERED_MESSAGE}'`);
    expect(source('mcp/http.ts')).toContain(`logger.warn('${FOREIGN_ORIGIN_MESSAGE}'`);
    expect(source('mcp/features/feature.ts')).toContain("securityEvent: 'cross-tenant-cursor'");
    expect(source('authorizer/authorize.ts')).toContain(`logger.warn('${DENIED_MESSAGE_PREFIX}`);
  });

  it('explains the drill-down on the dashboard, with each saved query and Logs Insights', () => {
    const text = dashboardWidgets()
      .filter((widget) => widget.type === 'text')
      .map((widget) => String(widget.properties.markdown))
      .find((markdown) => markdown.startsWith('## Per-tenant drill-down'));
    for (const name of ['latency', 'errors', 'usage', 'security']) {
      expect(text).toContain(`\`MultiTenantMcp/tenant/${name}\``);
    }
    expect(text).toContain(`\`${TENANT_PLACEHOLDER}\``);
    expect(text).toContain(
      '(https://console.aws.amazon.com/cloudwatch/home?region=TOKEN#logsV2:logs-insights)',
    );
  });
});
