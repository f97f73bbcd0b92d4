import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
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
    expect(Object.keys(alarms)).toHaveLength(6);
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
});
