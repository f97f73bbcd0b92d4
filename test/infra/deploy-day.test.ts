import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { tenantKeyPolicy } from '../../lambda/shared/tenancy/isolation.js';
import { readAppConfig } from '../../lib/config.js';
import {
  DATA_ACCESS_POLICY_LOGICAL_ID,
  DATA_ACCESS_ROLE_LOGICAL_ID,
} from '../../lib/mcp-saas-stack.js';
import { CLI_OUTPUTS, MCP_URL_OUTPUT } from '../../lib/stack-outputs.js';
import {
  actionsOf,
  buildApp,
  policyStatements,
  synthTemplate,
  TRACE_WRITE_ACTIONS,
  templateResources,
} from '../support/app.js';
import { ACCOUNT, decide, identityPoliciesOf, REGION, resolve } from '../support/iam.js';

/**
 * What AWS would refuse or silently break on a new account's first deploy and first sign-up,
 * checked on the synthesized template against AWS's documented behaviour: one test per defect
 * a review found that no local run could show.
 */
const template = synthTemplate();
const resources = templateResources(template);
const idOf = (type: string, pattern: RegExp) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const roleArn = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${id}`;

describe('deploy day: the provisioner on a new account', () => {
  it('reserves no concurrency (a new account may have none to reserve) and is bounded by its event source', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    for (const fn of functions) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('reserves MCP concurrency only when the deployer asks for it', () => {
    const capped = synthTemplate({ mcpReservedConcurrency: '50' });
    capped.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { ReservedConcurrentExecutions: 50 },
      1,
    );
  });
});

describe('deploy day: alarms reach someone', () => {
  const topic = idOf('AWS::SNS::Topic', /Alarms/);
  const policyOf = () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    return resolve(template, policy?.Properties.PolicyDocument);
  };
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${topic}`;
  const publish = (context: Record<string, string>) =>
    decide({
      principal: 'cloudwatch.amazonaws.com',
      identityPolicies: [],
      action: 'sns:Publish',
      resource: topicArn,
      resourcePolicy: policyOf(),
      context: { 'aws:SecureTransport': 'true', ...context },
    });

  it("lets CloudWatch publish this account's alarms to the topic (the topic policy replaces the default one)", async () => {
    expect(
      await publish({
        'aws:SourceAccount': ACCOUNT,
        'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:ErrorRate`,
      }),
    ).toBe('Allowed');
  });

  it("refuses another account's alarms, and anything without TLS", async () => {
    expect(
      await publish({
        'aws:SourceAccount': '210987654321',
        'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:210987654321:alarm:ErrorRate`,
      }),
    ).not.toBe('Allowed');
    expect(
      await publish({
        'aws:SourceAccount': ACCOUNT,
        'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:ErrorRate`,
        'aws:SecureTransport': 'false',
      }),
    ).toBe('ExplicitlyDenied');
  });

  it('notifies the topic from every alarm', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    }
  });
});

describe('deploy day: traces where the README promises them', () => {
  const functions = template.findResources('AWS::Lambda::Function');

  it('turns active tracing on for every function, and lets each role write traces', () => {
    const statements = policyStatements(template, { includeTracing: true });
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const traceWrite = statements.filter(
        (s) => s.roles.includes(role) && TRACE_WRITE_ACTIONS.every((a) => actionsOf(s).includes(a)),
      );
      expect(traceWrite, role).toHaveLength(1);
    }
  });

  it('traces the API stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  });

  it('grants "*" only for actions that have no resource-level permissions', () => {
    const onEverything = policyStatements(template, { includeTracing: true }).filter(
      (s) => s.Effect === 'Allow' && s.Resource === '*',
    );
    expect([...new Set(onEverything.flatMap(actionsOf))].sort()).toEqual(
      ['kms:CreateKey', 'tag:GetResources', ...TRACE_WRITE_ACTIONS].sort(),
    );
  });
});

describe('deploy day: metric math CloudWatch accepts', () => {
  const expressions = JSON.stringify(template.toJSON())
    .match(/"Expression":"((?:[^"\\]|\\.)*)"/g)
    ?.map((m) => JSON.parse(`{${m}}`).Expression as string);

  it('puts only time series in array functions (a number needs TIME_SERIES)', () => {
    expect(expressions?.length).toBeGreaterThan(0);
    for (const expression of expressions ?? []) {
      for (const [, items] of expression.matchAll(/\[([^\]]*)\]/g)) {
        for (const item of (items as string).split(',')) {
          expect(item.trim(), expression).not.toMatch(/^-?\d+(\.\d+)?$/);
        }
      }
    }
  });

  it('divides the 5XX rate by a series that is never zero', () => {
    expect(expressions).toContain(
      '100 * FILL(errors, 0) / MAX([FILL(requests, 0), TIME_SERIES(1)])',
    );
  });
});

describe('deploy day: a failed first deploy leaves nothing behind', () => {
  const stateful = [
    'AWS::DynamoDB::GlobalTable',
    'AWS::Cognito::UserPool',
    'AWS::SecretsManager::Secret',
    'AWS::Logs::LogGroup',
  ];

  it('retains tables, the user pool, secrets and log groups on update and delete, not on a failed create', () => {
    for (const type of stateful) {
      const found = Object.entries(resources).filter(([, r]) => r.Type === type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const [id, resource] of found) {
        expect([id, resource.DeletionPolicy]).toEqual([id, 'RetainExceptOnCreate']);
        expect([id, resource.UpdateReplacePolicy]).toEqual([id, 'Retain']);
      }
    }
  });

  it('holds no resource with a plain Retain', () => {
    const plain = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain');
    expect(plain.map(([id]) => id)).toEqual([]);
  });
});

describe('deploy day: callback URLs Cognito accepts', () => {
  it("registers only the façade's https callback with Cognito", () => {
    const clients = Object.values(template.findResources('AWS::Cognito::UserPoolClient'));
    expect(clients).toHaveLength(1);
    const callbacks = resolve(template, clients[0]?.Properties.CallbackURLs) as string[];
    expect(callbacks).toEqual([expect.stringMatching(/^https:\/\/[^/]+\/v1\/oauth\/callback$/)]);
  });

  it('keeps loopback redirect URIs of native MCP clients on the façade only', () => {
    const config = readAppConfig(new App({ context: {} }).node);
    expect(config.callbackUrls).toContain('http://127.0.0.1:6274/oauth/callback');
    const flat = JSON.stringify(template.findResources('AWS::Cognito::UserPoolClient'));
    expect(flat).not.toContain('127.0.0.1');
    expect(flat).not.toContain('http://localhost');
  });
});

describe('deploy day: an update keeps the data-access role', () => {
  it('keeps the logical ids the role and its policy were first deployed with', () => {
    // Every tenant's KMS key policy names the role's ARN: a replaced role would lock every
    // tenant out of its data.
    const resources = template.toJSON().Resources;
    expect(resources[DATA_ACCESS_ROLE_LOGICAL_ID]?.Type).toBe('AWS::IAM::Role');
    expect(resources[DATA_ACCESS_POLICY_LOGICAL_ID]).toMatchObject({
      Type: 'AWS::IAM::Policy',
      Properties: { Roles: [{ Ref: DATA_ACCESS_ROLE_LOGICAL_ID }] },
    });
  });
});

describe('deploy day: every stack output the CLI reads exists', () => {
  it.each([...Object.entries(CLI_OUTPUTS), ['API_BASE_URL', MCP_URL_OUTPUT]])(
    '%s from output %s',
    (_setting, output) => {
      expect(Object.keys(template.toJSON().Outputs)).toContain(output);
    },
  );
});

describe('deploy day: grants narrowed to what each function needs', () => {
  const mcpRole = idOf('AWS::IAM::Role', /^McpApiMcpRole/);
  const provisionerRole = idOf('AWS::IAM::Role', /^OnboardingProvisionerRole/);
  const registry = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${idOf('AWS::DynamoDB::GlobalTable', /^TenantDataRegistry/)}`;
  const as =
    (role: string) =>
    (request: Omit<Parameters<typeof decide>[0], 'principal' | 'identityPolicies'>) =>
      decide({
        principal: roleArn(role),
        identityPolicies: identityPoliciesOf(template, role),
        ...request,
      });
  const apikey = (id: string) => `arn:aws:apigateway:${REGION}::/apikeys/${id}`;
  const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000001-0000-4000-8000-000000000000`;

  it('lets the MCP function put memberships, never a tenant record', async () => {
    const put = (keys: string[]) =>
      as(mcpRole)({
        action: 'dynamodb:PutItem',
        resource: registry,
        context: { 'dynamodb:LeadingKeys': keys },
      });
    expect(await put(['USER#4f1c'])).toBe('Allowed');
    expect(await put(['TENANT#acme'])).toBe('ImplicitlyDenied');
    expect(await put(['USER#4f1c', 'TENANT#acme'])).toBe('ImplicitlyDenied');
  });

  it('lets the provisioner delete only API keys this service created', async () => {
    const remove = (tags: Record<string, string>) =>
      as(provisionerRole)({
        action: 'apigateway:DELETE',
        resource: apikey('k1'),
        context: Object.fromEntries(
          Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
        ),
      });
    expect(await remove({ ManagedBy: 'multi-tenant-mcp', TenantId: 'acme' })).toBe('Allowed');
    expect(await remove({})).toBe('ImplicitlyDenied');
    expect(await remove({ ManagedBy: 'billing-app' })).toBe('ImplicitlyDenied');
  });

  it('lets the provisioner create API keys only with the tenant and ManagedBy tags', async () => {
    const create = (tags: Record<string, string>) =>
      as(provisionerRole)({
        action: 'apigateway:POST',
        resource: `arn:aws:apigateway:${REGION}::/apikeys`,
        context: {
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
          'aws:TagKeys': Object.keys(tags),
        },
      });
    expect(await create({ TenantId: 'acme', ManagedBy: 'multi-tenant-mcp' })).toBe('Allowed');
    expect(await create({})).toBe('ImplicitlyDenied');
    expect(await create({ TenantId: 'acme', ManagedBy: 'multi-tenant-mcp', Owner: 'x' })).toBe(
      'ImplicitlyDenied',
    );
  });

  it('lets the provisioner tag a new API key with our tags only (tag-on-create is a TagResource)', async () => {
    const tagKey = (tags: Record<string, string>, resourceTags: Record<string, string> = {}) =>
      as(provisionerRole)({
        action: 'apigateway:PUT',
        resource: `arn:aws:apigateway:${REGION}::/tags/${encodeURIComponent(apikey('k1'))}`,
        context: {
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
          ...Object.fromEntries(
            Object.entries(resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
          ),
          'aws:TagKeys': Object.keys(tags),
        },
      });
    const ours = { TenantId: 'acme', ManagedBy: 'multi-tenant-mcp' };
    expect(await tagKey(ours)).toBe('Allowed');
    expect(await tagKey({ ...ours, Owner: 'x' })).toBe('ImplicitlyDenied');
    expect(await tagKey(ours, { ManagedBy: 'multi-tenant-mcp' })).toBe('ImplicitlyDenied');
    expect(
      await as(provisionerRole)({
        action: 'apigateway:PUT',
        resource: `arn:aws:apigateway:${REGION}::/tags/${encodeURIComponent(`arn:aws:apigateway:${REGION}::/restapis/r1`)}`,
        context: {
          'aws:RequestTag/TenantId': 'acme',
          'aws:RequestTag/ManagedBy': 'multi-tenant-mcp',
          'aws:TagKeys': ['TenantId', 'ManagedBy'],
        },
      }),
    ).toBe('ImplicitlyDenied');
  });

  it('lets the provisioner tag a new key for a tenant, never re-tag a key that belongs to one', async () => {
    // KMS honours IAM policies only where the key policy delegates to the account, as the
    // tenant key policy (given to CreateKey) does.
    const resourcePolicy = JSON.parse(
      tenantKeyPolicy({
        tenantId: 'acme',
        dataAccessRoleArn: roleArn(idOf('AWS::IAM::Role', /DataAccessRole/)),
        provisionerRoleArn: roleArn(provisionerRole),
      }),
    );
    const tag = (resourceTags: Record<string, string>) =>
      as(provisionerRole)({
        action: 'kms:TagResource',
        resource: key,
        resourcePolicy,
        context: {
          'aws:RequestTag/TenantId': 'acme',
          'aws:RequestTag/ManagedBy': 'multi-tenant-mcp',
          'aws:TagKeys': ['TenantId', 'ManagedBy'],
          ...Object.fromEntries(
            Object.entries(resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
          ),
        },
      });
    expect(await tag({})).toBe('Allowed');
    expect(await tag({ TenantId: 'globex', ManagedBy: 'multi-tenant-mcp' })).toBe(
      'ImplicitlyDenied',
    );
    expect(
      await as(provisionerRole)({
        action: 'kms:TagResource',
        resource: key,
        resourcePolicy,
        context: { 'aws:RequestTag/Owner': 'x', 'aws:TagKeys': ['Owner'] },
      }),
    ).toBe('ImplicitlyDenied');
  });
});

describe('deploy day: invoke permissions (why the Guard acknowledgement holds)', () => {
  it('gives every invoke permission a service principal and the source it serves', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
    expect(permissions.length).toBeGreaterThan(10);
    const api = idOf('AWS::ApiGateway::RestApi', /Api/);
    for (const permission of permissions) {
      const { Principal, SourceArn } = permission.Properties;
      expect(Principal).toMatch(/^[a-z-]+\.amazonaws\.com$/);
      expect(SourceArn).toBeDefined();
      if (Principal === 'apigateway.amazonaws.com') {
        // execute-api:<region>:<account>:<this API's id>/...
        expect(resolve(template, SourceArn)).toMatch(
          new RegExp(`^arn:aws:execute-api:${REGION}:${ACCOUNT}:${api}/`),
        );
      }
    }
  });
});

describe('deploy day: a misconfigured deploy fails at synth, naming the setting', () => {
  it.each([
    [{ domainPrefix: 'my-cognito-login' }, /domainPrefix/],
    [{ domainPrefix: 'Has_Underscores' }, /domainPrefix/],
    [{ callbackUrls: 'http://example.com/callback' }, /callbackUrls.*not loopback/],
    [{ callbackUrls: 'https://example.com/cb#frag' }, /callbackUrls.*fragment/],
    [{ stageRateLimit: '-5' }, /stageRateLimit/],
    [{ alarmEmail: 'not-an-address' }, /alarmEmail/],
    [{ removalPolicy: 'snapshot' }, /removalPolicy/],
  ])('context %j', (context, message) => {
    expect(() => buildApp(context)).toThrow(message);
  });

  it.each([
    ['cn-north-1', /AWS China/],
    ['us-gov-west-1', /GovCloud/],
    ['not-a-region', /not an AWS Region/],
  ])('Region %s', (region, message) => {
    expect(() => buildApp({}, { account: ACCOUNT, region })).toThrow(message);
  });

  it('synthesizes in a commercial Region, and environment-agnostic', () => {
    expect(() => buildApp({}, { account: ACCOUNT, region: 'eu-west-1' })).not.toThrow();
    expect(() => buildApp({}, 'agnostic')).not.toThrow();
  });
});
