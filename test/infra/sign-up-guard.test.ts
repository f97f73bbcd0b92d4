import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { UserPool } from 'aws-cdk-lib/aws-cognito';
import { describe, expect, it } from 'vitest';
import {
  SIGN_UP_BLOCK_RESPONSE,
  SIGN_UP_LIMITS,
  SIGN_UP_RATE_LIMITED_MESSAGE,
  signUpAlarmThreshold,
} from '../../lambda/shared/lifecycle/sign-up-limits.js';
import { SIGN_UP_RULE_NAME, SignUpGuard } from '../../lib/constructs/sign-up-guard.js';
import { actionsOf, policyStatements, synthTemplate } from '../support/app.js';
import { ACCOUNT, decide, identityPoliciesOf, REGION } from '../support/iam.js';

const template = synthTemplate();
const idOf = (type: string, pattern: RegExp) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const webAcl = Object.values(template.findResources('AWS::WAFv2::WebACL'))[0]?.Properties;
const rule = webAcl?.Rules?.[0];
const preSignUpRole = idOf('AWS::IAM::Role', /^IdentityPreSignUpRole/);
const usageTable = idOf('AWS::DynamoDB::GlobalTable', /^TenantDataUsage/);
const registryTable = idOf('AWS::DynamoDB::GlobalTable', /^TenantDataRegistry/);
const preSignUpEnvironment = (context?: Record<string, unknown>) => {
  const functions = (context ? synthTemplate(context) : template).findResources(
    'AWS::Lambda::Function',
    { Properties: { Description: Match.stringLikeRegexp('past the daily cap') } },
  );
  expect(Object.keys(functions)).toHaveLength(1);
  return Object.values(functions)[0]?.Properties.Environment.Variables;
};

describe('sign-up guard: AWS WAF on the user pool', () => {
  it('is one regional web ACL that lets everything through but its one rule', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    expect(webAcl).toMatchObject({
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
    });
    expect(webAcl?.Rules).toHaveLength(1);
  });

  it("counts sign-ups per client IP address over the limits module's window", () => {
    expect(rule).toMatchObject({
      Name: SIGN_UP_RULE_NAME,
      Statement: {
        RateBasedStatement: {
          Limit: SIGN_UP_LIMITS.perSource.limit,
          EvaluationWindowSec: SIGN_UP_LIMITS.perSource.windowSeconds,
          AggregateKeyType: 'IP',
        },
      },
      VisibilityConfig: {
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
        MetricName: SIGN_UP_RULE_NAME,
      },
    });
    // Never a forwarded-IP header, which the sender writes.
    expect(rule?.Statement.RateBasedStatement.ForwardedIPConfig).toBeUndefined();
  });

  it("counts the API's SignUp and Managed Login's sign-up posts, and nothing else", () => {
    const lowercase = [{ Priority: 0, Type: 'LOWERCASE' }];
    expect(rule?.Statement.RateBasedStatement.ScopeDownStatement).toEqual({
      OrStatement: {
        Statements: [
          {
            ByteMatchStatement: {
              FieldToMatch: { SingleHeader: { Name: 'x-amz-target' } },
              PositionalConstraint: 'EXACTLY',
              SearchString: 'awscognitoidentityproviderservice.signup',
              TextTransformations: lowercase,
            },
          },
          {
            AndStatement: {
              Statements: [
                {
                  ByteMatchStatement: {
                    FieldToMatch: { Method: {} },
                    PositionalConstraint: 'EXACTLY',
                    SearchString: 'POST',
                    TextTransformations: [{ Priority: 0, Type: 'NONE' }],
                  },
                },
                {
                  ByteMatchStatement: {
                    FieldToMatch: { UriPath: {} },
                    PositionalConstraint: 'STARTS_WITH',
                    SearchString: '/signup',
                    TextTransformations: lowercase,
                  },
                },
              ],
            },
          },
        ],
      },
    });
  });

  it('blocks a source over the limit with a 429 whose JSON body says why', () => {
    expect(rule?.Action).toEqual({
      Block: {
        CustomResponse: {
          ResponseCode: 429,
          CustomResponseBodyKey: SIGN_UP_BLOCK_RESPONSE.bodyKey,
        },
      },
    });
    const body = webAcl?.CustomResponseBodies?.[SIGN_UP_BLOCK_RESPONSE.bodyKey];
    expect(body?.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body?.Content)).toEqual({
      __type: 'ForbiddenException',
      message: SIGN_UP_RATE_LIMITED_MESSAGE,
    });
  });

  it('is associated with the user pool', () => {
    const userPool = idOf('AWS::Cognito::UserPool', /^IdentityUserPool/);
    const aclId = idOf('AWS::WAFv2::WebACL', /^SignUpGuard/);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::GetAtt': [userPool, 'Arn'] },
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('refuses at synth a rate WAF would refuse at deploy', () => {
    const guard = (limit: number, windowSeconds: number) => () => {
      const stack = new Stack(new App());
      new SignUpGuard(stack, 'Guard', {
        userPool: new UserPool(stack, 'Pool'),
        perSource: { limit, windowSeconds: windowSeconds as 300 },
      });
    };
    expect(guard(9, 300)).toThrow(/at least 10/);
    expect(guard(10, 90)).toThrow(/60, 120, 300, 600/);
    expect(guard(10, 60)).not.toThrow();
  });
});

describe('the daily cap on self sign-ups', () => {
  it('gives the pre-sign-up trigger the cap and the counters table, 200 unless configured', () => {
    expect(preSignUpEnvironment()).toMatchObject({
      SIGN_UP_DAILY_CAP: String(SIGN_UP_LIMITS.dailyCap),
      USAGE_TABLE_NAME: { Ref: usageTable },
      REGISTRY_TABLE_NAME: { Ref: registryTable },
    });
    expect(preSignUpEnvironment({ signUpDailyCap: '25' })).toMatchObject({
      SIGN_UP_DAILY_CAP: '25',
    });
    expect(() => synthTemplate({ signUpDailyCap: '0' })).toThrow(/context "signUpDailyCap"/);
  });

  it('lets the trigger write only the daily counters, and only with UpdateItem', async () => {
    const dynamo = policyStatements(template)
      .filter((s) => s.roles.some((role) => role === preSignUpRole))
      .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    const usageArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${usageTable}`;
    const registryArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${registryTable}`;
    const asTrigger = (action: string, resource: string, leadingKeys: string[]) =>
      decide({
        principal: `arn:aws:iam::${ACCOUNT}:role/${preSignUpRole}`,
        identityPolicies: identityPoliciesOf(template, preSignUpRole),
        action: `dynamodb:${action}`,
        resource,
        context: { 'dynamodb:LeadingKeys': leadingKeys },
      });

    expect(dynamo.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(await asTrigger('UpdateItem', usageArn, ['SIGNUPS#2026-12-01'])).toBe('Allowed');
    for (const other of ['RATE#acme#user', 'BUDGET#acme#0', 'USAGE#acme#0']) {
      expect(await asTrigger('UpdateItem', usageArn, [other])).toBe('ImplicitlyDenied');
    }
    for (const action of ['PutItem', 'GetItem', 'DeleteItem', 'Query']) {
      expect(await asTrigger(action, usageArn, ['SIGNUPS#2026-12-01'])).toBe('ImplicitlyDenied');
    }
    expect(await asTrigger('UpdateItem', registryArn, ['SIGNUPS#2026-12-01'])).toBe(
      'ImplicitlyDenied',
    );
  });

  it('alarms at 80 % of the cap on the most sign-ups counted in a day', () => {
    const alarmOf = (t: typeof template) =>
      Object.entries(t.findResources('AWS::CloudWatch::Alarm')).find(([id]) =>
        id.startsWith('ObservabilitySignUpCapAlarm'),
      )?.[1]?.Properties;

    expect(alarmOf(template)).toMatchObject({
      Namespace: 'MultiTenantMcp',
      MetricName: 'SelfSignUpsToday',
      Statistic: 'Maximum',
      Threshold: signUpAlarmThreshold(SIGN_UP_LIMITS.dailyCap),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(signUpAlarmThreshold(SIGN_UP_LIMITS.dailyCap)).toBe(160);
    expect(alarmOf(synthTemplate({ signUpDailyCap: '25' }))).toMatchObject({ Threshold: 20 });
  });
});
