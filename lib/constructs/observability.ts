import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type ILogGroup, QueryDefinition } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TIER_NAMES } from '../../lambda/shared/fair-use/tiers.js';
import {
  SIGN_UP_LIMITS,
  signUpAlarmThreshold,
} from '../../lambda/shared/lifecycle/sign-up-limits.js';
import {
  METRIC,
  METRICS_NAMESPACE,
  type MetricName,
} from '../../lambda/shared/platform/observability.js';
import { type HandlerFunction, SERVICE_NAME } from './handler-function.js';
import {
  TENANT_PLACEHOLDER,
  type TenantQueryName,
  type TenantQuerySource,
  tenantQueries,
  tenantQueryFolder,
} from './tenant-queries.js';

export interface ObservabilityProps {
  /** The MCP API's stage: requests, errors and latency. */
  readonly stage: Stage;
  readonly mcpFunction: HandlerFunction;
  readonly authorizerFunction: HandlerFunction;
  readonly provisionerFunction: HandlerFunction;
  readonly provisioningDeadLetterQueue: Queue;
  /**
   * Alarms already defined elsewhere that should notify the same topic.
   * @default - none (only this construct's alarms notify the topic)
   */
  readonly otherAlarms?: readonly Alarm[];
  /**
   * An e-mail address subscribed to the alarm topic (it must confirm the subscription).
   * @default - none: subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * The daily cap on self sign-ups the pre-sign-up trigger applies: the alarm fires at 80 %.
   * @default SIGN_UP_LIMITS.dailyCap (lambda/shared/lifecycle/sign-up-limits.ts)
   */
  readonly signUpDailyCap?: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What an operator looks at: one dashboard (traffic, tools by tier and tool, fair use,
 * security, onboarding) and alarms on what needs a person, all notifying one SNS topic.
 * Application metrics come from the handlers (lambda/shared/platform/observability.ts) by tier and
 * tool, never by tenant; per-tenant questions are saved Logs Insights queries on `tenantId`
 * (tenant-queries.ts), listed on the dashboard.
 */
export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarmTopic: Topic;
  readonly alarms: Record<
    'errorRate' | 'throttles' | 'authorizerDenials' | 'crossTenant' | 'signUpCap',
    Alarm
  >;
  /** The saved per-tenant queries, under `<stack>/tenant/` in Logs Insights. */
  readonly tenantQueries: Record<TenantQueryName, QueryDefinition>;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);

    this.alarmTopic = new Topic(this, 'Alarms', {
      displayName: 'Multi-tenant MCP alarms',
      enforceSSL: true,
    });
    // Alarm notifications name a metric and a threshold, never a tenant or its data. CloudWatch
    // cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key
    // would cost a key per stack for no data worth protecting.
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry no tenant data; CloudWatch cannot publish to a topic under the AWS-managed SNS key.',
    });
    // enforceSSL writes a topic policy holding only its Deny, and a topic policy replaces the
    // default one: without this Allow, CloudWatch may not publish and no alarm reaches anyone.
    // Scoped to this account's alarms (the confused-deputy conditions SNS documents).
    const { account, region, partition } = Stack.of(this);
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const app = (name: MetricName, dimensions: Record<string, string> = {}) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME, ...dimensions },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    /** One metric per tier, keyed `<prefix><i>`, to add up in a math expression. */
    const perTier = (prefix: string, name: MetricName) =>
      Object.fromEntries(TIER_NAMES.map((tier, i) => [`${prefix}${i}`, app(name, { tier })]));
    const search = (name: MetricName, statistic: string, label: string) =>
      new MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},service,tier,tool} MetricName="${name}" service="${SERVICE_NAME}"', '${statistic}', 300)`,
        label,
        period: FIVE_MINUTES,
      });

    const errorRate = new MathExpression({
      // MAX over an array takes time series only (metric math reference): TIME_SERIES(1) is
      // the constant series that keeps the division defined when there were no requests.
      expression: '100 * FILL(errors, 0) / MAX([FILL(requests, 0), TIME_SERIES(1)])',
      usingMetrics: {
        errors: props.stage.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests: props.stage.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      label: '5XX rate (%)',
      period: FIVE_MINUTES,
    });
    const refusals = {
      ...perTier('users', METRIC.userRateLimited),
      ...perTier('budgets', METRIC.budgetExhausted),
    };
    const limited = new MathExpression({
      // FILL: a tier with no refusals has no data points, which would blank the sum.
      expression: ['lambda', ...Object.keys(refusals)].map((id) => `FILL(${id}, 0)`).join(' + '),
      usingMetrics: {
        lambda: props.mcpFunction.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        ...refusals,
      },
      label: 'Throttled or refused requests',
      period: FIVE_MINUTES,
    });
    const denials = new MathExpression({
      expression: 'FILL(refused, 0) + FILL(denied, 0)',
      usingMetrics: {
        refused: app(METRIC.authorizerRefused),
        denied: app(METRIC.authorizerDenied),
      },
      label: 'Authorizer refusals and denials',
      period: FIVE_MINUTES,
    });

    const signUpCap = props.signUpDailyCap ?? SIGN_UP_LIMITS.dailyCap;
    const signUpThreshold = signUpAlarmThreshold(signUpCap);
    const alarm = (
      alarmId: string,
      description: string,
      metric: IMetric,
      threshold: number,
      periods = 1,
      comparisonOperator = ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) =>
      new Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    this.alarms = {
      errorRate: alarm(
        'ErrorRateAlarm',
        'More than 5% of MCP API requests failed with a 5XX for 10 minutes: see the MCP and authorizer logs',
        errorRate,
        5,
        2,
      ),
      throttles: alarm(
        'ThrottlesAlarm',
        'Over 100 requests in 5 minutes were throttled by Lambda or refused by a per-user limit or budget: a tenant may need a higher tier, or the concurrency a raise',
        limited,
        100,
      ),
      authorizerDenials: alarm(
        'AuthorizerDenialsAlarm',
        'Over 200 tokens refused or denied in 5 minutes: a misconfigured client, or someone trying tokens',
        denials,
        200,
      ),
      crossTenant: alarm(
        'CrossTenantAlarm',
        'A request reached for another tenant (for example a cursor bound to another tenant): find it with securityEvent in the MCP logs',
        app(METRIC.crossTenantAttempt),
        0,
      ),
      // The trigger reports the day's counter after each self sign-up: its maximum is how many
      // came today (UTC), refused ones included.
      signUpCap: alarm(
        'SignUpCapAlarm',
        `Self sign-ups today reached ${signUpThreshold} of the daily cap of ${signUpCap}; past the cap they are refused until 00:00 UTC. A flood (see the SignUpGuard web ACL's blocked requests) or real growth (raise -c signUpDailyCap)`,
        app(METRIC.selfSignUpsToday).with({ statistic: 'Maximum' }),
        signUpThreshold,
        1,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ),
    };
    for (const each of [...Object.values(this.alarms), ...(props.otherAlarms ?? [])]) {
      each.addAlarmAction(new SnsAction(this.alarmTopic));
    }

    const logGroups: Record<TenantQuerySource, ILogGroup> = {
      mcp: props.mcpFunction.logGroup,
      authorizer: props.authorizerFunction.logGroup,
      provisioner: props.provisionerFunction.logGroup,
    };
    const folder = tenantQueryFolder(Stack.of(this).stackName);
    const queries = tenantQueries();
    this.tenantQueries = Object.fromEntries(
      queries.map(({ name, query, sources }) => [
        name,
        new QueryDefinition(this, `Tenant${name.replace(/^./, (c) => c.toUpperCase())}Query`, {
          queryDefinitionName: `${folder}/${name}`,
          queryString: query,
          logGroups: sources.map((source) => logGroups[source]),
        }),
      ]),
    ) as Record<TenantQueryName, QueryDefinition>;

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, metrics: IMetric[], width = 8) =>
      new GraphWidget({ title, left: metrics, width, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Multi-tenant MCP\nTraffic, tools by tier and tool, fair use, security and onboarding. Per-tenant detail: the saved Logs Insights queries at the bottom.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('MCP API requests', [
        props.stage.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ]),
      graph('MCP API errors', [
        props.stage.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        props.stage.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ]),
      graph('MCP API latency', [
        props.stage.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }),
        props.stage.metricLatency({ period: FIVE_MINUTES, statistic: 'p95' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Tool calls by tier and tool', [search(METRIC.toolCall, 'Sum', 'calls')]),
      graph('Tool errors by tier and tool', [search(METRIC.toolError, 'Sum', 'errors')]),
      graph('Tool duration p95 by tier and tool', [search(METRIC.toolDuration, 'p95', 'p95 ms')]),
    );
    this.dashboard.addWidgets(
      graph('Fair use: refusals by tier', [
        ...TIER_NAMES.map((tier) => app(METRIC.userRateLimited, { tier })),
        ...TIER_NAMES.map((tier) => app(METRIC.budgetExhausted, { tier })),
        app(METRIC.fairUseUnavailable),
      ]),
      graph('MCP function concurrency and throttles', [
        props.mcpFunction.fn.metric('ConcurrentExecutions', {
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        props.mcpFunction.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        props.mcpFunction.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ]),
      graph('Security', [
        app(METRIC.authorizerRefused),
        app(METRIC.authorizerDenied),
        app(METRIC.crossTenantAttempt),
        props.authorizerFunction.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Onboarding',
        [
          props.provisioningDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
          }),
          props.provisionerFunction.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          app(METRIC.selfSignUpsToday).with({ statistic: 'Maximum' }),
          app(METRIC.signUpCapReached),
          app(METRIC.signUpCapUnavailable),
        ],
        12,
      ),
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...Object.values(this.alarms), ...(props.otherAlarms ?? [])],
        width: 12,
        height: 6,
      }),
    );
    const insights = `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#logsV2:logs-insights`;
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: [
          '## Per-tenant drill-down',
          'The metrics above stop at tier and tool: a tenant dimension would be a metric per tenant to pay for. ' +
            `For one tenant, open [Logs Insights](${insights}), pick a saved query under \`${folder}/\`, ` +
            `replace \`${TENANT_PLACEHOLDER}\` with the tenant's id and set the time range:`,
          '',
          ...queries.map(
            ({ name, summary, sources }) =>
              `- \`${folder}/${name}\`: ${summary} (${sources.join(', ')} logs)`,
          ),
        ].join('\n'),
        width: 24,
        height: 5,
      }),
    );
  }
}
