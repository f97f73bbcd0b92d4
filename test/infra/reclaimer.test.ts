import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { tenantKeyPolicy } from '../../lambda/shared/tenancy/isolation.js';
import { readAppConfig } from '../../lib/config.js';
import { addPolicyValidation } from '../../lib/validation.js';
import { actionsOf, buildApp, policyStatements, synthTemplate } from '../support/app.js';
import { ACCOUNT, decide, identityPoliciesOf, REGION } from '../support/iam.js';

const SENDER = 'no-reply@notices.example.com';
const context = { noticeSender: SENDER, idleFreeTenantDays: '60', reclaimNoticeDays: '21' };
const template = synthTemplate(context);
const idOf = (type: string, pattern: RegExp) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const role = idOf('AWS::IAM::Role', /^ReclaimerFunctionRole/);
const fn = idOf('AWS::Lambda::Function', /^ReclaimerFunction/);
const statements = policyStatements(template).filter((s) => s.roles.includes(role));
const tableArn = (pattern: RegExp) =>
  `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${idOf('AWS::DynamoDB::GlobalTable', pattern)}`;
const dataTable = tableArn(/^TenantData[0-9A-F]{8}$/);
const registryTable = tableArn(/^TenantDataRegistry/);
const usageTable = tableArn(/^TenantDataUsage/);

type Request = Omit<Parameters<typeof decide>[0], 'principal' | 'identityPolicies'>;
const asReclaimer = (request: Request) =>
  decide({
    principal: `arn:aws:iam::${ACCOUNT}:role/${role}`,
    identityPolicies: identityPoliciesOf(template, role),
    ...request,
  });

describe('reclaimer', () => {
  it('is not deployed without a notice sender: no tenant is reclaimed without notice', () => {
    const plain = synthTemplate();

    expect(JSON.stringify(plain.toJSON())).not.toMatch(/Reclaimer|NOTICE_SENDER/);
  });

  it('runs daily on an EventBridge schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(17 3 * * ? *)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })],
    });
  });

  it('takes its settings from the app configuration, with the longest timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          IDLE_DAYS: '60',
          NOTICE_DAYS: '21',
          NOTICE_SENDER: SENDER,
          MAX_TENANTS_PER_RUN: '100',
          MCP_URL: Match.anyValue(),
        }),
      },
    });
  });

  it('sends a run that keeps failing to a dead-letter queue with an alarm', () => {
    const [queue] = Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) =>
      id.startsWith('ReclaimerDeadLetters'),
    );
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fn },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Threshold: 0,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('ObservabilityAlarms') })],
    });
  });

  it('holds exactly the actions noticing and offboarding need', () => {
    const actions = [...new Set(statements.flatMap(actionsOf))].sort();

    expect(actions).toEqual(
      [
        'apigateway:DELETE',
        'apigateway:GET',
        'apigateway:PATCH',
        'cognito-idp:AdminDisableUser',
        'cognito-idp:AdminUserGlobalSignOut',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'kms:DeleteAlias',
        'kms:DescribeKey',
        'kms:DisableKey',
        'kms:ScheduleKeyDeletion',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DeleteSecret',
        'secretsmanager:ListSecrets',
        'ses:SendEmail',
        // The dead-letter destination.
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'tag:GetResources',
      ].sort(),
    );
    expect(JSON.stringify(statements)).not.toMatch(
      /dynamodb:Scan|kms:Decrypt|kms:Encrypt|kms:GenerateDataKey|GetSecretValue|sts:AssumeRole|"\*"\]?,"Action":"ses/,
    );
  });

  it.each([
    [
      'lists and deletes keys of any tenant partition',
      'Query',
      ['tenantId', 'sk'],
      'SPECIFIC_ATTRIBUTES',
      'Allowed',
    ],
    ['deletes by key', 'BatchWriteItem', ['tenantId', 'sk'], undefined, 'Allowed'],
    [
      'never reads what a tenant stored',
      'Query',
      ['tenantId', 'sk', 'body'],
      'SPECIFIC_ATTRIBUTES',
      'ImplicitlyDenied',
    ],
    ['never reads whole items', 'Query', ['tenantId', 'sk'], 'ALL_ATTRIBUTES', 'ImplicitlyDenied'],
    [
      'never writes tenant content',
      'BatchWriteItem',
      ['tenantId', 'sk', 'title'],
      undefined,
      'ImplicitlyDenied',
    ],
    ['has no GetItem', 'GetItem', ['tenantId', 'sk'], undefined, 'ImplicitlyDenied'],
    ['has no Scan', 'Scan', ['tenantId', 'sk'], 'SPECIFIC_ATTRIBUTES', 'ImplicitlyDenied'],
  ])('data table: %s', async (_, action, attributes, select, expected) => {
    expect(
      await asReclaimer({
        action: `dynamodb:${action}`,
        resource: dataTable,
        context: {
          'dynamodb:LeadingKeys': ['acme'],
          'dynamodb:Attributes': attributes,
          ...(select ? { 'dynamodb:Select': select } : {}),
        },
      }),
    ).toBe(expected);
  });

  it.each([
    ['PutItem', 'RECLAIM#acme', 'Allowed'],
    ['DeleteItem', 'RECLAIM#acme', 'Allowed'],
    ['UpdateItem', 'TENANT#acme', 'Allowed'],
    ['DeleteItem', 'USER#someone', 'Allowed'],
    ['PutItem', 'TENANT#acme', 'ImplicitlyDenied'],
    ['DeleteItem', 'TENANT#acme', 'ImplicitlyDenied'],
    ['PutItem', 'USER#someone', 'ImplicitlyDenied'],
    ['GetItem', 'USER#someone', 'ImplicitlyDenied'],
    ['PutItem', 'AGENTS#acme', 'ImplicitlyDenied'],
    ['Scan', 'RECLAIM#acme', 'ImplicitlyDenied'],
  ])('registry: %s on %s is %s', async (action, key, expected) => {
    expect(
      await asReclaimer({
        action: `dynamodb:${action}`,
        resource: registryTable,
        context: { 'dynamodb:LeadingKeys': [key] },
      }),
    ).toBe(expected);
  });

  it('reads the usage counters and writes none', async () => {
    const on = (action: string, key: string) =>
      asReclaimer({
        action: `dynamodb:${action}`,
        resource: usageTable,
        context: { 'dynamodb:LeadingKeys': [key] },
      });
    expect(await on('Query', 'BUDGET#acme')).toBe('Allowed');
    expect(await on('UpdateItem', 'BUDGET#acme')).toBe('ImplicitlyDenied');
    expect(await on('Query', 'RATE#acme#u')).toBe('ImplicitlyDenied');
  });

  it('sends e-mail only from the configured sender', async () => {
    const send = (identity: string, from: string) =>
      asReclaimer({
        action: 'ses:SendEmail',
        resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${identity}`,
        context: { 'ses:FromAddress': from },
      });
    expect(await send(SENDER, SENDER)).toBe('Allowed');
    expect(await send('notices.example.com', SENDER)).toBe('Allowed');
    expect(await send('notices.example.com', 'ceo@notices.example.com')).toBe('ImplicitlyDenied');
    expect(await send('other.example', 'no-reply@other.example')).toBe('ImplicitlyDenied');
  });

  it("retires tenants' KMS keys only, never the pooled or a signing key", async () => {
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000001-0000-4000-8000-000000000000`;
    // The key policy the provisioner gives a tenant key: its account statement delegates key
    // administration to IAM policies (KMS consults the key policy first).
    const keyPolicy = JSON.parse(
      tenantKeyPolicy({
        tenantId: 'acme',
        dataAccessRoleArn: `arn:aws:iam::${ACCOUNT}:role/data-access`,
        provisionerRoleArn: `arn:aws:iam::${ACCOUNT}:role/provisioner`,
      }),
    );
    const onKey = (action: string, tags: Record<string, string>) =>
      asReclaimer({
        action: `kms:${action}`,
        resource: key,
        resourcePolicy: keyPolicy,
        context: Object.fromEntries(
          Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
        ),
      });
    const tenantKey = { ManagedBy: 'multi-tenant-mcp', TenantId: 'acme' };
    expect(await onKey('DisableKey', tenantKey)).toBe('Allowed');
    expect(await onKey('ScheduleKeyDeletion', tenantKey)).toBe('Allowed');
    expect(await onKey('DisableKey', { ManagedBy: 'multi-tenant-mcp' })).toBe('ImplicitlyDenied');
    expect(await onKey('ScheduleKeyDeletion', { TenantId: 'acme' })).toBe('ImplicitlyDenied');
    expect(await onKey('Decrypt', tenantKey)).toBe('ImplicitlyDenied');
  });

  it("deletes tenants' secrets only, and reads none", async () => {
    const secret = (name: string) =>
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
    const on = (action: string, name: string) =>
      asReclaimer({ action: `secretsmanager:${action}`, resource: secret(name) });
    expect(await on('DeleteSecret', 'mcp-tenants/acme/webhook')).toBe('Allowed');
    expect(await on('DeleteSecret', 'mcp-platform/pseudonym-key')).toBe('ImplicitlyDenied');
    expect(await on('GetSecretValue', 'mcp-tenants/acme/webhook')).toBe('ImplicitlyDenied');
  });

  it('adds no cdk-nag or CloudFormation Guard finding', () => {
    const { app } = buildApp(context);
    addPolicyValidation(app);

    // The whole app's findings are cdk-nag.test.ts's; none may name the reclaimer.
    const findings = (() => {
      try {
        app.synth();
        return '';
      } catch (error) {
        return String(error);
      }
    })();
    expect(findings).not.toMatch(/reclaimer/i);
  });
});

describe('reclaim settings', () => {
  const configFrom = (values: Record<string, unknown>) =>
    readAppConfig(new App({ context: values }).node).reclaim;

  it('defaults to 90 idle days and 14 days of notice, and no sender (nothing reclaimed)', () => {
    expect(configFrom({})).toEqual({ idleDays: 90, noticeDays: 14 });
  });

  it('takes the flags from the command line', () => {
    expect(
      configFrom({ idleFreeTenantDays: '30', reclaimNoticeDays: '7', noticeSender: SENDER }),
    ).toEqual({ idleDays: 30, noticeDays: 7, noticeSender: SENDER });
  });

  it.each([
    ['a sender that is not an address', { noticeSender: 'notices' }, /noticeSender/],
    ['no idle days', { idleFreeTenantDays: '0' }, /idleFreeTenantDays/],
    ['no notice period', { reclaimNoticeDays: '0' }, /reclaimNoticeDays/],
  ])('refuses %s', (_, values, message) => {
    expect(() => configFrom(values)).toThrow(message);
  });
});
