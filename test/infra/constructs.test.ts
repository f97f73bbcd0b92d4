import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { UserPool } from 'aws-cdk-lib/aws-cognito';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { TIER_NAMES, TIERS, usagePlanLimits } from '../../lambda/shared/fair-use/tiers.js';
import { McpFunction } from '../../lib/constructs/mcp-function.js';
import { TenantIsolation } from '../../lib/constructs/tenant-isolation.js';
import { addTierUsagePlans } from '../../lib/constructs/tier-usage-plans.js';
import { TokenSigningKey } from '../../lib/constructs/token-signing-key.js';

/** Each construct alone on a fresh stack: what it creates by itself, and nothing else. */
function freshStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fresh', { env: { account: '123456789012', region: 'us-east-1' } });
  const table = (id: string) =>
    new TableV2(stack, id, { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  return { stack, table };
}

describe('TenantIsolation on its own', () => {
  const { stack, table } = freshStack();
  const caller = new Role(stack, 'Caller', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
  });
  new TenantIsolation(stack, 'Isolation', {
    dataTable: table('Data'),
    registryTable: table('Registry'),
    auditTable: table('Audit'),
    callerRole: caller,
  });
  const template = Template.fromStack(stack);

  it('lets only the caller role assume it, tagged with one non-empty TenantId and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: {
              StringLike: { 'aws:RequestTag/TenantId': '?*' },
              'ForAllValues:StringEquals': { 'aws:TagKeys': ['TenantId'] },
            },
            Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Caller'), 'Arn'] } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: ['sts:AssumeRole', 'sts:TagSession'] })],
      },
    });
  });

  it('has the nine statements of the policy builder and no Scan anywhere', () => {
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^IsolationDataAccessRole') }] },
      }),
    );
    const statements = policy?.Properties.PolicyDocument.Statement as Array<{ Sid: string }>;
    expect(statements.map((s) => s.Sid)).toEqual([
      'OwnTenantPartitionOnly',
      'OwnTenantAuditTrailReadOnly',
      'NoOtherTenantsEncryptionContext',
      'OwnTenantSecretsOnly',
      'CreateOwnTenantSecretsTagged',
      'OwnTenantRecordOnly',
      'OwnTenantMembersOnly',
      'OwnTenantInvitationsOnly',
      'OwnTenantAgentsOnly',
    ]);
    expect(JSON.stringify(statements)).not.toContain('dynamodb:Scan');
  });
});

describe('McpFunction on its own', () => {
  const { stack, table } = freshStack();
  const fn = new McpFunction(stack, 'Mcp', {
    apiBaseUrl: 'https://api.example.com/v1',
    consoleOrigin: 'https://console.example.com',
    dataTable: table('Data'),
    registryTable: table('Registry'),
    usageTable: table('Usage'),
    userPool: new UserPool(stack, 'Pool'),
  });

  it('refuses to synthesize until it is told which data-access role to assume', () => {
    expect(() => Template.fromStack(stack)).toThrow(/lambda\/mcp requires DATA_ACCESS_ROLE_ARN/);
  });

  it('then has every variable it reads, and no grant on the data table', () => {
    fn.useDataAccessRole(new Role(stack, 'DataAccess', { assumedBy: fn.role }));
    // Webhook credentials: it signs with the platform's key.
    fn.useWebhookSigningKey(new TokenSigningKey(stack, 'Signing', { signs: 'webhooks' }));
    // The audit trail (read through the data-access role) and the pseudonym key, as the stack
    // sets them.
    fn.setEnvironment('AUDIT_TABLE_NAME', 'audit');
    fn.setEnvironment('PSEUDONYM_KEY_SECRET_ID', 'pseudonyms');
    fn.usePooledKey(new Key(stack, 'Pooled'));
    const template = Template.fromStack(stack);
    const [lambda] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(Object.keys(lambda?.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(fn.requiredVariables()),
    );
    const grants = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(grants).not.toMatch(/"Ref":"Data[0-9A-F]{8}"|Data[0-9A-F]{8}","Arn"/);
    expect(grants).toContain('cognito-idp:AdminDeleteUser');
    expect(grants).toContain('kms:Sign');
  });
});

describe('addTierUsagePlans on its own', () => {
  it("creates one usage plan per tier with the tier's limits", () => {
    const { stack } = freshStack();
    const api = new RestApi(stack, 'Api');
    api.root.addMethod('GET');
    const { ids } = addTierUsagePlans(api);
    const template = Template.fromStack(stack);

    expect(Object.keys(ids)).toEqual([...TIER_NAMES]);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', TIER_NAMES.length);
    for (const tier of Object.values(TIERS)) {
      const limits = usagePlanLimits(tier);
      template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: limits.throttle.rateLimit, BurstLimit: limits.throttle.burstLimit },
        Quota: limits.quota
          ? { Limit: limits.quota.limit, Period: limits.quota.period }
          : Match.absent(),
      });
    }
    // One shared key per pooled tier, none for a dedicated one (their tenants' keys come later).
    const pooled = Object.values(TIERS).filter((tier) => tier.resources === 'pooled');
    template.resourceCountIs('AWS::ApiGateway::ApiKey', pooled.length);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', pooled.length);
  });
});
