import { describe, expect, it } from 'vitest';
import { tableDefinitions } from '../../local/tables.js';
import { actionsOf, policyStatements, synthTemplate } from '../support/app.js';

const template = synthTemplate();
const [tableId, table] = Object.entries(template.findResources('AWS::DynamoDB::GlobalTable')).find(
  ([id]) => id.startsWith('AuthorizationServerTable'),
) ?? ['', undefined];
const facadeFunction = Object.entries(template.findResources('AWS::Lambda::Function')).find(
  ([, fn]) => String(fn.Properties.Description).startsWith('OAuth authorization server'),
);
const clients = template.findResources('AWS::Cognito::UserPoolClient');
const registryId =
  Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).find((id) =>
    id.startsWith('TenantDataRegistry'),
  ) ?? '';
const signingKeyId =
  Object.keys(template.findResources('AWS::KMS::Key')).find((id) =>
    id.startsWith('TokenSigning'),
  ) ?? '';
const webhookKeyId =
  Object.keys(template.findResources('AWS::KMS::Key')).find((id) =>
    id.startsWith('WebhookSigning'),
  ) ?? '';
const envOf = (description: RegExp) =>
  Object.values(template.findResources('AWS::Lambda::Function')).find((fn) =>
    description.test(String(fn.Properties.Description)),
  )?.Properties.Environment.Variables as Record<string, unknown>;

describe('authorization façade', () => {
  it('keeps its records in a table of its own, keyed as the local harness keys it, expiring by TTL', () => {
    const local = tableDefinitions().find((definition) => definition.TableName === 'oauth-facade');

    expect(table?.Properties.KeySchema).toEqual(local?.KeySchema);
    expect(table?.Properties.AttributeDefinitions).toEqual(local?.AttributeDefinitions);
    expect(table?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('may only get, put, update and delete items of its table, read agents, members and tenants by key, and sign with the token key: no Query, no Scan, no tenant data', () => {
    const [functionId, fn] = facadeFunction ?? ['', undefined];
    const role = fn?.Properties.Role['Fn::GetAtt'][0];
    const statements = policyStatements(template).filter((s) => s.roles.includes(role));
    const data = statements.filter((s) => actionsOf(s).some((a) => !a.startsWith('logs:')));

    expect(functionId).not.toBe('');
    expect(data).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      }),
      // Agents' grants: the agent, its tenant, the delegating person's membership; by key only.
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [registryId, 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': ['AGENTS#*', 'USER#*', 'TENANT#*'],
          },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      // Signs agents' access tokens (digests only), and publishes both keys' public halves.
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'kms:Sign',
        Resource: { 'Fn::GetAtt': [signingKeyId, 'Arn'] },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'kms:GetPublicKey',
        Resource: [
          { 'Fn::GetAtt': [signingKeyId, 'Arn'] },
          { 'Fn::GetAtt': [webhookKeyId, 'Arn'] },
        ],
      }),
    ]);
    expect(statements.flatMap(actionsOf).join()).not.toMatch(
      /Scan|Query|kms:(Decrypt|Encrypt|GenerateDataKey|CreateGrant)|sts:|secretsmanager:|\*/,
    );
  });

  it("has the user pool's only app client: public, code flow with PKCE, its own callback only", () => {
    expect(Object.keys(clients)).toHaveLength(1);
    const [client] = Object.values(clients);

    expect(client?.Properties).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      // The MCP scope only: no `openid`, so tokens cannot read profiles from userInfo.
      AllowedOAuthScopes: [
        {
          'Fn::Join': ['', [{ Ref: expect.stringMatching(/^IdentityUserPoolMcpApi/) }, '/invoke']],
        },
      ],
      EnableTokenRevocation: true,
      RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 10 },
    });
    expect(client?.Properties.CallbackURLs).toEqual([
      {
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: expect.stringMatching(/^McpApi[0-9A-F]{8}$/) },
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            '/v1/oauth/callback',
          ],
        ],
      },
    ]);
  });

  it("makes the authorizer accept tokens of the façade's client and no other", () => {
    const [clientId] = Object.keys(clients);

    expect(envOf(/Verifies MCP access tokens/)?.CLIENT_IDS).toEqual({ Ref: clientId });
  });

  it('names the façade, on the API origin, as the authorization server of the MCP resource', () => {
    const metadata = envOf(/protected resource metadata/);
    const facade = envOf(/OAuth authorization server/);

    expect(metadata).not.toHaveProperty('JWT_ISSUER');
    expect(facade?.API_BASE_URL).toEqual(metadata?.API_BASE_URL);
    expect(facade).toMatchObject({ REQUIRED_SCOPE: expect.anything() });
    // The MCP client, and the tenant console, whose one redirect URI is its own origin.
    const clients = JSON.stringify(facade?.PRE_REGISTERED_CLIENTS);
    expect(clients).toContain('\\"clientId\\":\\"mcp-client\\"');
    expect(clients).toContain('\\"clientId\\":\\"tenant-console\\"');
    expect(clients).toMatch(/ConsoleDistribution[0-9A-F]{8}","DomainName/);
    expect(facade).not.toHaveProperty('ALLOW_LOOPBACK_CLIENT_METADATA');
  });

  it('routes every OAuth endpoint and the invitation page to the façade function, without authorization', () => {
    const functionId = facadeFunction?.[0] as string;
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (method) => JSON.stringify(method.Properties.Integration ?? {}).includes(functionId),
    );

    // The OAuth endpoints, the platform's JWKS, and the invitation page (GET, POST) and its
    // confirmation (POST).
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual([
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'GET',
      'OPTIONS',
      'OPTIONS',
      'OPTIONS',
      'OPTIONS',
      'POST',
      'POST',
      'POST',
      'POST',
      'POST',
    ]);
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('NONE');
  });

  it('throttles the anonymous OAuth endpoints below the stage, registration hardest', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    const settings = stage?.Properties.MethodSettings as Array<Record<string, unknown>>;
    const of = (path: string, method: string) =>
      settings.find((s) => s.ResourcePath === path && s.HttpMethod === method);

    expect(of('/~1oauth~1register', 'POST')).toMatchObject({
      ThrottlingRateLimit: 2,
      ThrottlingBurstLimit: 5,
      MetricsEnabled: true,
      LoggingLevel: 'ERROR',
    });
    expect(of('/~1oauth~1token', 'POST')).toMatchObject({ ThrottlingRateLimit: 50 });
    expect(of('/~1oauth~1authorize', 'GET')).toMatchObject({ ThrottlingRateLimit: 20 });
    expect(of('/*', '*')).toMatchObject({ ThrottlingRateLimit: 500 });
  });
});
