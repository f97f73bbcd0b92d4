import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { consoleCorsHeaders } from '../shared/edge/console-cors.js';
import { KmsJwtSigner } from '../shared/edge/jwt-signer.js';
import { endpointUrls, facadeUrls, invitationLink } from '../shared/edge/oauth-metadata.js';
import { MonthlyBudget } from '../shared/fair-use/monthly-budget.js';
import { UsageMeter } from '../shared/fair-use/usage-meter.js';
import { UserRateLimit } from '../shared/fair-use/user-rate-limit.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { apiRequestId, logger, observed } from '../shared/platform/observability.js';
import { pseudonymsFromSecret } from '../shared/platform/pseudonym.js';
import { abortWithRequest } from '../shared/platform/request-scope.js';
import { TenantCredentials } from '../shared/tenancy/credentials.js';
import { TenantCryptography } from '../shared/tenancy/crypto.js';
import { TenantDataAccess } from '../shared/tenancy/data.js';
import { TenantScopes } from '../shared/tenancy/scope.js';
import { TenantSecrets } from '../shared/tenancy/secrets.js';
import { MCP_CONFIG } from './config.js';
import { createMcpEndpoint } from './endpoint.js';
import { refuseForeignEnvironment } from './execution-tenant.js';
import { FairUseGate } from './fair-use.js';
import { serveMcpRequest } from './http.js';
import { serverFactory } from './server.js';

/** The MCP endpoint (`POST /mcp`), behind the API Gateway Lambda authorizer. */
const config = readConfig(MCP_CONFIG);

const sts = new STSClient({});
sts.middlewareStack.use(abortWithRequest());
const credentials = new TenantCredentials(sts, {
  roleArn: config.DATA_ACCESS_ROLE_ARN,
});
const data = new TenantDataAccess({ tableName: config.DATA_TABLE_NAME, credentials });
const cryptography = new TenantCryptography({ credentials, pooledKeyArn: config.POOLED_KEY_ARN });
const secrets = new TenantSecrets({ credentials });

// Fair use: platform-written counters, through this function's own role. Metering is the
// usage records this function logs, counted by the metering function.
const platformDb = createDocumentClient();
platformDb.middlewareStack.use(abortWithRequest());
const usageMeter = new UsageMeter(platformDb, config.USAGE_TABLE_NAME);
const budget = new MonthlyBudget(platformDb, config.USAGE_TABLE_NAME);
const gate = new FairUseGate({
  rateLimit: new UserRateLimit(platformDb, config.USAGE_TABLE_NAME),
  budget,
  logger,
});

// Loaded once per environment, and only when a call names a member (audit records, lists).
const pseudonyms = pseudonymsFromSecret(config.PSEUDONYM_KEY_SECRET_ID);

const cognito = new CognitoIdentityProviderClient({});
cognito.middlewareStack.use(abortWithRequest());
const scopes = new TenantScopes({
  data,
  cryptography,
  secrets,
  registryTableName: config.REGISTRY_TABLE_NAME,
  platformDb,
  cognito,
  userPoolId: config.USER_POOL_ID,
  usageMeter,
  budget,
  auditTableName: config.AUDIT_TABLE_NAME,
  outbound: { allowLoopback: config.ALLOW_LOOPBACK_WEBHOOKS === 'true' },
  credentials: {
    signer: new KmsJwtSigner(new KMSClient({}), config.WEBHOOK_SIGNING_KEY_ARN),
    issuer: facadeUrls(config.API_BASE_URL).issuer,
  },
  invitationLink: (code) => invitationLink(config.API_BASE_URL, code),
  tokenEndpoint: facadeUrls(config.API_BASE_URL).token,
  pseudonyms,
  logger,
});

// The request path: serveMcpRequest (HTTP, fair use, deadline) -> the endpoint (protocol
// era) -> serverFactory (tenant scope, per-request server) -> the features' tools.
const mcp = createMcpEndpoint(serverFactory(scopes), {
  maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES,
  // The SDK's reasons may quote client-chosen headers (`Mcp-Name`): cut them short.
  onerror: (error) => logger.warn('MCP request rejected', { reason: error.message.slice(0, 300) }),
});

const options = {
  resourceUrl: new URL(endpointUrls(config.API_BASE_URL).resource),
  allowedOriginHostnames: config.ALLOWED_ORIGIN_HOSTNAMES,
  consoleOrigin: config.CONSOLE_ORIGIN,
  maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES,
  responseTimeoutMs: 25_000,
};

// CORS headers the console reads the refusal of an invocation in a foreign environment with.
const corsHeaders = consoleCorsHeaders(config.CONSOLE_ORIGIN);

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
  .use(observed({ correlationId: apiRequestId }))
  .handler(async (event, context) => {
    // Before anything of the request runs: never in another tenant's execution environment.
    const refusal = refuseForeignEnvironment(event, context, logger, corsHeaders);
    if (refusal) return refusal;
    return serveMcpRequest(event, {
      mcp,
      logger,
      options,
      gate,
      // Leave a second to answer and write the usage record before Lambda stops the invocation.
      remainingTimeMs: () => context.getRemainingTimeInMillis() - 1_000,
      requestId: event.requestContext.requestId,
      pseudonyms,
      prefetch: (context) => credentials.forTenant(context.tenantId),
    });
  });
