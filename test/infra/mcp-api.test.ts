import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FACADE_ROUTES } from '../../lambda/shared/edge/oauth-metadata.js';
import { TIER_NAMES, TIERS, usagePlanLimits } from '../../lambda/shared/fair-use/tiers.js';
import { synthTemplate } from '../support/app.js';

const template = synthTemplate();
const resources = template.findResources('AWS::ApiGateway::Resource');
const pathPart = (id: unknown) =>
  Object.entries(resources).find(([logicalId]) => logicalId === (id as { Ref: string }).Ref)?.[1]
    .Properties.PathPart;
const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map((m) => ({
  method: m.Properties.HttpMethod as string,
  path: pathPart(m.Properties.ResourceId) as string,
  authorization: m.Properties.AuthorizationType as string,
}));

describe('MCP REST API', () => {
  it('puts every /mcp method behind the Lambda authorizer', () => {
    expect(methods.filter((m) => m.path === 'mcp')).toEqual(
      expect.arrayContaining(
        ['POST', 'GET', 'DELETE'].map((method) => ({
          method,
          path: 'mcp',
          authorization: 'CUSTOM',
        })),
      ),
    );
  });

  it('leaves only the metadata documents and the OAuth endpoints without authorization', () => {
    const open = methods.filter((m) => m.authorization === 'NONE');
    const oauth = FACADE_ROUTES.flatMap((route) =>
      route.methods.map((method) => ({
        method,
        path: route.path.split('/').at(-1),
        authorization: 'NONE',
      })),
    );

    // And the console's CORS preflight on /mcp, which API Gateway answers itself.
    expect(open).toHaveLength(3 + oauth.length);
    expect(open).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: 'oauth-protected-resource', authorization: 'NONE' },
        { method: 'GET', path: 'mcp', authorization: 'NONE' },
        { method: 'OPTIONS', path: 'mcp', authorization: 'NONE' },
        ...oauth,
      ]),
    );
  });

  it("answers the console's preflight from a mock integration, allowing its origin only", () => {
    const preflight = Object.values(template.findResources('AWS::ApiGateway::Method')).find(
      (m) => m.Properties.HttpMethod === 'OPTIONS' && m.Properties.Integration?.Type === 'MOCK',
    );
    const headers = preflight?.Properties.Integration.IntegrationResponses[0].ResponseParameters;
    expect(JSON.stringify(headers['method.response.header.Access-Control-Allow-Origin'])).toMatch(
      /ConsoleDistribution[0-9A-F]{8}","DomainName/,
    );
    expect(headers['method.response.header.Access-Control-Allow-Methods']).toBe("'POST'");
    expect(headers['method.response.header.Access-Control-Allow-Headers']).toBe(
      "'authorization, content-type, accept, mcp-protocol-version'",
    );
    // Every gateway response (401, 403, 429, 5xx) lets the console read it, and no other origin.
    for (const response of Object.values(
      template.findResources('AWS::ApiGateway::GatewayResponse'),
    )) {
      const allowed =
        response.Properties.ResponseParameters[
          'gatewayresponse.header.Access-Control-Allow-Origin'
        ];
      expect(JSON.stringify(allowed)).toMatch(/ConsoleDistribution[0-9A-F]{8}","DomainName/);
      expect(JSON.stringify(allowed)).not.toContain('*');
    }
  });

  it('caches the authorizer result per token for a minute and checks the header shape first', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
      IdentityValidationExpression: '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$',
    });
  });

  it('takes API keys from the authorizer, so each tenant is metered on its own key', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
  });

  it('answers 401 with a challenge naming the metadata document and the scope', () => {
    const [response] = Object.values(
      template.findResources('AWS::ApiGateway::GatewayResponse', {
        Properties: { ResponseType: 'UNAUTHORIZED' },
      }),
    );
    const challenge = JSON.stringify(
      response?.Properties.ResponseParameters['gatewayresponse.header.WWW-Authenticate'],
    );

    expect(response?.Properties.StatusCode).toBe('401');
    expect(challenge).toContain("'Bearer resource_metadata=");
    expect(challenge).toContain('/v1/.well-known/oauth-protected-resource/mcp');
    expect(challenge).toContain('/invoke');
  });

  it.each([
    ['ACCESS_DENIED', '403'],
    ['AUTHORIZER_FAILURE', '500'],
    ['AUTHORIZER_CONFIGURATION_ERROR', '500'],
    ['DEFAULT_5XX', '500'],
    ['MISSING_AUTHENTICATION_TOKEN', '404'],
    ['THROTTLED', '429'],
    ['QUOTA_EXCEEDED', '429'],
  ])('answers %s with %s and a generic JSON body', (type, status) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: status,
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp('^\\{"message":"[A-Za-z ]+"\\}$'),
      },
    });
  });

  it('tells a throttled client to retry after a second', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'" }),
    });
  });

  it("logs each request as JSON with the tenant, the user's pseudonym and no token or user id", () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    const format = JSON.parse(stage?.Properties.AccessLogSetting.Format);

    expect(format).toMatchObject({
      tenantId: '$context.authorizer.tenantId',
      user: '$context.authorizer.user',
      status: '$context.status',
      errorType: '$context.error.responseType',
    });
    expect(JSON.stringify(format)).not.toMatch(
      /Authorization|authorizer\.token|identity\.apiKey|principalId|authorizer\.sub|email/i,
    );
  });

  it('reserves concurrency for the MCP function only when configured', () => {
    const reserved = synthTemplate({ mcpReservedConcurrency: '40' });
    const mcp = (t: typeof template) =>
      Object.values(t.findResources('AWS::Lambda::Function')).find((f) =>
        String(f.Properties.Description).startsWith('Stateless MCP server'),
      );

    expect(mcp(reserved)?.Properties.ReservedConcurrentExecutions).toBe(40);
    expect(mcp(template)?.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('throttles the stage as the global limit, from configuration', () => {
    const custom = synthTemplate({ stageRateLimit: '50', stageBurstLimit: '80' });

    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
      ]),
    });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 }),
      ]),
    });
  });

  it("gives the MCP function its public URL from the API's id, never from a request", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Stateless MCP server'),
      Timeout: 29,
      Environment: {
        Variables: Match.objectLike({
          API_BASE_URL: {
            'Fn::Join': [
              '',
              [
                'https://',
                { Ref: Match.stringLikeRegexp('^McpApi') },
                Match.anyValue(),
                Match.anyValue(),
                Match.anyValue(),
                Match.anyValue(),
                '/v1',
              ],
            ],
          },
          // No browser origin by default: the API sends no CORS headers.
          ALLOWED_ORIGIN_HOSTNAMES: '',
        }),
      },
    });
  });

  it('outputs the MCP endpoint URL', () => {
    expect(Object.keys(template.findOutputs('*'))).toContain('McpUrl');
  });

  it('requires an API key on every /mcp method (the authorizer supplies the tenant’s own)', () => {
    const mcp = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.AuthorizationType === 'CUSTOM',
    );

    expect(mcp).toHaveLength(3);
    for (const method of mcp) expect(method.Properties.ApiKeyRequired).toBe(true);
  });

  it('creates one usage plan per tier with exactly the tier module’s limits (the pool’s for a pooled tier)', () => {
    const plans = Object.values(template.findResources('AWS::ApiGateway::UsagePlan'));

    expect(plans).toHaveLength(TIER_NAMES.length);
    for (const tier of Object.values(TIERS)) {
      // A pooled tier's plan caps the whole tier (its tenants share one key); a dedicated
      // tier's caps each tenant's own key.
      const limits = usagePlanLimits(tier);
      template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: limits.throttle.rateLimit, BurstLimit: limits.throttle.burstLimit },
        Quota: limits.quota
          ? { Limit: limits.quota.limit, Period: limits.quota.period }
          : Match.absent(),
        ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
      });
    }
  });
});
