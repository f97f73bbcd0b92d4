import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  MockIntegration,
  ResponseType,
  RestApi,
  TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import type { UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PROTECTED_RESOURCE_CONFIG } from '../../lambda/protected-resource/config.js';
import {
  API_STAGE_NAME,
  AUTHORIZATION_HEADER_PATTERN,
  AUTHORIZER_CACHE_TTL_SECONDS,
  GATEWAY_RESPONSE_HEADERS,
  GATEWAY_RESPONSES,
  type GatewayResponseType,
  gatewayResponseBody,
} from '../../lambda/shared/edge/api-contract.js';
import {
  consoleCorsHeaders,
  consolePreflightHeaders,
} from '../../lambda/shared/edge/console-cors.js';
import {
  TENANT_ID_PARAMETER,
  TENANT_ID_SOURCE,
} from '../../lambda/shared/edge/execution-tenant.js';
import { bearerChallenge, endpointUrls } from '../../lambda/shared/edge/oauth-metadata.js';
import { API_ROUTES, routesOf } from '../../lambda/shared/edge/routes.js';
import type { TierName } from '../../lambda/shared/fair-use/tiers.js';
import { guardRule } from '../validation.js';
import { AuthorizerFunction } from './authorizer-function.js';
import { acknowledgeLogGroupFindings, HandlerFunction } from './handler-function.js';
import type { Identity } from './identity.js';
import { McpFunction } from './mcp-function.js';
import { addTierUsagePlans } from './tier-usage-plans.js';

/** Header values as API Gateway mapping expressions: static strings in single quotes. */
const quoted = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, `'${value}'`]));
const quotedParameters = (headers: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      `method.response.header.${name}`,
      `'${value}'`,
    ]),
  );

export interface McpApiProps {
  readonly identity: Identity;
  readonly registryTable: ITableV2;
  readonly dataTable: ITableV2;
  /** Rate-limit windows, budgets and usage counters, written by the MCP function itself. */
  readonly usageTable: ITableV2;
  /**
   * Reserved concurrency of the MCP function: a ceiling on what it can cost and on what it
   * takes from the account's pool.
   * @default - none (the account's unreserved pool)
   */
  readonly mcpReservedConcurrency?: number;
  /**
   * Hostnames a browser `Origin` may name. The API sends no CORS headers, so this matters
   * only for browsers that skip preflight; MCP clients outside a browser send no Origin.
   * @default - none: any request that carries an Origin is refused
   */
  readonly allowedOriginHostnames?: readonly string[];
  /**
   * The tenant console's origin: the one browser origin that may call `POST /mcp` and read the
   * answers (a preflight on `OPTIONS /mcp`, CORS headers on every answer).
   */
  readonly consoleOrigin: string;
  /** The global limit: the stage's steady rate and burst, for all tenants together. */
  readonly stageThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (log groups and the API Gateway CloudWatch role) */
  readonly removalPolicy?: RemovalPolicy;
}

/** CloudFormation Guard misreads the invoke permissions API Gateway gets on the functions. */
const apiGatewayInvokePermission = {
  id: guardRule('lambda_function_public_access_prohibited_check'),
  reason:
    'Each invoke permission API Gateway gets (per method, and for the token authorizer) names ' +
    "API Gateway's service principal and this API's execute-api ARN as SourceArn (asserted in " +
    'deploy-day.test.ts); the rule does not read a SourceArn built with Fn::Join.',
};

/**
 * The MCP API: a REST API (usage plans need REST) with `POST /mcp` behind a Lambda TOKEN
 * authorizer, the RFC 9728 metadata without authentication, a 401 that tells clients where
 * to get a token, JSON access logs carrying the tenant, and stage throttling as the global
 * limit. The MCP function reaches tenant data only through the isolation role.
 */
export class McpApi extends Construct {
  readonly api: RestApi;
  readonly authorizerFunction: AuthorizerFunction;
  readonly mcpFunction: McpFunction;
  /** The public base URL (`https://<id>.execute-api.<region>.amazonaws.com/<stage>`). */
  readonly baseUrl: string;
  /** The MCP endpoint MCP clients connect to. */
  readonly mcpUrl: string;
  /** The usage plan of each tier. */
  readonly usagePlanIds: Readonly<Record<TierName, string>>;

  constructor(scope: Construct, id: string, props: McpApiProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const { identity } = props;

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    acknowledgeLogGroupFindings(accessLogs);
    this.api = new RestApi(this, 'Api', {
      description: 'Multi-tenant MCP server',
      endpointTypes: [EndpointType.REGIONAL],
      // The authorizer names the tenant's API key, so each tenant is throttled on its own.
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: removalPolicy,
      deploy: true,
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: props.stageThrottle.rateLimit,
        throttlingBurstLimit: props.stageThrottle.burstLimit,
        // The anonymous OAuth endpoints get limits of their own below the stage's.
        methodOptions: Object.fromEntries(
          API_ROUTES.flatMap((route) =>
            route.throttle
              ? route.methods
                  .filter((method) => method !== 'OPTIONS')
                  .map((method) => [
                    `${route.path}/${method}`,
                    {
                      throttlingRateLimit: route.throttle?.rateLimit,
                      throttlingBurstLimit: route.throttle?.burstLimit,
                      // A method's settings replace the stage's: keep its logging and metrics.
                      loggingLevel: MethodLoggingLevel.ERROR,
                      metricsEnabled: true,
                    },
                  ])
              : [],
          ),
        ),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        // X-Ray from the stage on: the trace starts at API Gateway and continues into the
        // authorizer and the MCP function (active tracing, handler-function.ts).
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            resource: '$context.resourcePath',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            tenantId: '$context.authorizer.tenantId',
            user: '$context.authorizer.user',
            tier: '$context.authorizer.tier',
            clientId: '$context.authorizer.clientId',
            errorType: '$context.error.responseType',
          }),
        ),
      },
    });
    // Built from the API id rather than api.url: the stage depends on the functions, and the
    // MCP function's configuration needs this URL.
    this.baseUrl = `https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${API_STAGE_NAME}`;
    const urls = endpointUrls(this.baseUrl);
    Validations.of(this.api.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level role API Gateway needs to write access logs uses ' +
        'AmazonAPIGatewayPushToCloudWatchLogs, the policy AWS documents for it.',
    });
    Validations.of(this.api).acknowledge(
      apiGatewayInvokePermission,
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'JSON-RPC bodies are validated in the function (MCP SDK and zod) and answered with ' +
          'JSON-RPC errors MCP clients understand; a gateway model would answer in a format ' +
          'they cannot read. The authorizer checks the Authorization header before anything.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'AWS WAF is left to the deployer (a web ACL costs per month and per rule); the ' +
          'authorizer, usage plans and stage throttling bound abuse without it.',
      },
    );

    this.authorizerFunction = new AuthorizerFunction(this, 'Authorizer', {
      identity,
      apiBaseUrl: this.baseUrl,
      registryTable: props.registryTable,
      removalPolicy,
    });
    identity.grantPseudonyms(this.authorizerFunction);
    // Its own role reaches no tenant data: the stack names the data-access role it assumes.
    this.mcpFunction = new McpFunction(this, 'Mcp', {
      apiBaseUrl: this.baseUrl,
      dataTable: props.dataTable,
      registryTable: props.registryTable,
      usageTable: props.usageTable,
      userPool: identity.userPool,
      allowedOriginHostnames: props.allowedOriginHostnames,
      consoleOrigin: props.consoleOrigin,
      reservedConcurrentExecutions: props.mcpReservedConcurrency,
      removalPolicy,
    });

    const metadataFunction = new HandlerFunction(this, 'ProtectedResource', {
      entry: 'protected-resource',
      config: PROTECTED_RESOURCE_CONFIG,
      description: 'OAuth protected resource metadata (RFC 9728)',
      memorySize: 128,
      environment: {
        API_BASE_URL: this.baseUrl,
        REQUIRED_SCOPE: identity.mcpScope,
      },
      removalPolicy,
    });

    Validations.of(this.authorizerFunction.fn).acknowledge(apiGatewayInvokePermission);
    const authorizer = new TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: this.authorizerFunction.fn,
      identitySource: 'method.request.header.Authorization',
      // Malformed headers are refused by API Gateway without invoking the function.
      validationRegex: AUTHORIZATION_HEADER_PATTERN,
      resultsCacheTtl: Duration.seconds(AUTHORIZER_CACHE_TTL_SECONDS),
    });

    // The MCP function is PER_TENANT: every invocation names its execution tenant, which the
    // authorizer computed from the tenant's registry record (its own for an isolated tier, the
    // tier's pool otherwise). Mapped from the authorizer's context only, so no client can pick
    // the environment it runs in; Lambda refuses an invocation without one.
    const mcpIntegration = new LambdaIntegration(this.mcpFunction.fn, {
      allowTestInvoke: false,
      requestParameters: { [TENANT_ID_PARAMETER]: TENANT_ID_SOURCE },
    });
    for (const route of routesOf('mcp')) {
      if (route.consolePreflight) this.addConsolePreflight(route.path, props.consoleOrigin);
      for (const httpMethod of route.methods) {
        const method = this.api.root
          .resourceForPath(route.path)
          .addMethod(httpMethod, mcpIntegration, {
            authorizer,
            authorizationType: AuthorizationType.CUSTOM,
            // The authorizer supplies the tenant's own key: each tenant is throttled and metered
            // by its tier's usage plan on its own.
            apiKeyRequired: true,
          });
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'The Lambda authorizer verifies the Cognito access token with aws-jwt-verify and ' +
            'also resolves the tenant in the registry, which a Cognito authorizer cannot do.',
        });
      }
    }

    const metadataIntegration = new LambdaIntegration(metadataFunction.fn, {
      allowTestInvoke: false,
    });
    for (const route of routesOf('protectedResource')) {
      for (const httpMethod of route.methods) {
        const method = this.api.root
          .resourceForPath(route.path)
          .addMethod(httpMethod, metadataIntegration, {
            authorizationType: AuthorizationType.NONE,
          });
        Validations.of(method).acknowledge(
          {
            id: 'AwsSolutions-APIG4',
            reason: 'RFC 9728 metadata must be readable without a token: it says how to get one.',
          },
          {
            id: 'AwsSolutions-COG4',
            reason: 'Public discovery document; no authorizer of any kind applies.',
          },
        );
      }
    }

    for (const [type, response] of Object.entries(GATEWAY_RESPONSES)) {
      this.api.addGatewayResponse(type, {
        type: ResponseType.of(type),
        statusCode: String(response.statusCode),
        responseHeaders: {
          'Content-Type': "'application/json'",
          // Gateway responses are the API's: each lets the console read it (a 401 tells it
          // to sign in again, a 429 to wait).
          ...quoted(consoleCorsHeaders(props.consoleOrigin)),
          ...Object.fromEntries(
            Object.entries(GATEWAY_RESPONSE_HEADERS[type as GatewayResponseType] ?? {}).map(
              ([name, value]) => [name, `'${value}'`],
            ),
          ),
          ...(type === 'UNAUTHORIZED'
            ? { 'WWW-Authenticate': `'${bearerChallenge(this.baseUrl, identity.mcpScope)}'` }
            : {}),
        },
        templates: {
          'application/json': gatewayResponseBody(type as keyof typeof GATEWAY_RESPONSES),
        },
      });
    }

    this.mcpUrl = urls.resource;

    const plans = addTierUsagePlans(this.api);
    this.usagePlanIds = plans.ids;
    this.authorizerFunction.setEnvironment('POOL_API_KEYS', plans.poolApiKeys);
  }

  /**
   * `OPTIONS` answered by API Gateway with the console's preflight: a mock integration, so no
   * function runs and no authorizer is asked (browsers send no credentials on a preflight).
   */
  private addConsolePreflight(path: string, consoleOrigin: string): void {
    const headers = consolePreflightHeaders(consoleOrigin);
    const method = this.api.root.resourceForPath(path).addMethod(
      'OPTIONS',
      new MockIntegration({
        requestTemplates: { 'application/json': '{"statusCode": 204}' },
        integrationResponses: [
          { statusCode: '204', responseParameters: quotedParameters(headers) },
        ],
      }),
      {
        authorizationType: AuthorizationType.NONE,
        methodResponses: [
          {
            statusCode: '204',
            responseParameters: Object.fromEntries(
              Object.keys(headers).map((name) => [`method.response.header.${name}`, true]),
            ),
          },
        ],
      },
    );
    Validations.of(method).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'A CORS preflight carries no credentials (Fetch standard); API Gateway answers it ' +
          'from a mock integration with static headers, and nothing runs.',
      },
      { id: 'AwsSolutions-COG4', reason: 'CORS preflight: see AwsSolutions-APIG4.' },
    );
  }

  /** The app clients whose tokens the authorizer accepts (see AuthorizerFunction). */
  acceptTokensFrom(clients: readonly UserPoolClient[]): void {
    this.authorizerFunction.acceptTokensFrom(clients);
  }
}
