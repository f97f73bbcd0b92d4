import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { STSClient } from '@aws-sdk/client-sts';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from 'zod';
import { endpointUrls, invitationLink } from '../shared/edge/oauth-metadata.js';
import { MonthlyBudget } from '../shared/fair-use/monthly-budget.js';
import { UsageMeter } from '../shared/fair-use/usage-meter.js';
import { UserRateLimit } from '../shared/fair-use/user-rate-limit.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig, tableName } from '../shared/platform/config.js';
import { apiRequestId, logger, observed } from '../shared/platform/observability.js';
import { abortWithRequest } from '../shared/platform/request-scope.js';
import { TenantDirectory } from '../shared/registry/directory.js';
import { Invitations } from '../shared/registry/invitations.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { TenantContextSchema } from '../shared/tenancy/context.js';
import { TenantCredentials } from '../shared/tenancy/credentials.js';
import { TenantCryptography } from '../shared/tenancy/crypto.js';
import { TenantDataAccess } from '../shared/tenancy/data.js';
import { TenantSecrets } from '../shared/tenancy/secrets.js';
import { createMcpEndpoint } from './endpoint.js';
import { FairUseGate } from './fair-use.js';
import { serveMcpRequest } from './http.js';
import { Notes } from './notes.js';
import { buildMcpServer } from './server.js';

/** The MCP endpoint (`POST /mcp`), behind the API Gateway Lambda authorizer. */
const config = readConfig({
  DATA_TABLE_NAME: tableName(),
  REGISTRY_TABLE_NAME: tableName(),
  USAGE_TABLE_NAME: tableName(),
  USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'not a user pool id'),
  DATA_ACCESS_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'not a role ARN'),
  API_BASE_URL: z.url({ protocol: /^https?$/ }),
  ALLOWED_ORIGIN_HOSTNAMES: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
  MAX_REQUEST_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** Development only: webhooks may use plain http and loopback addresses. */
  ALLOW_LOOPBACK_WEBHOOKS: z.enum(['true', 'false']).default('false'),
});

const sts = new STSClient({});
sts.middlewareStack.use(abortWithRequest());
const credentials = new TenantCredentials(sts, {
  roleArn: config.DATA_ACCESS_ROLE_ARN,
});
const data = new TenantDataAccess({ tableName: config.DATA_TABLE_NAME, credentials });
const cryptography = new TenantCryptography({ credentials });
const secrets = new TenantSecrets({ credentials });
const outbound = { allowLoopback: config.ALLOW_LOOPBACK_WEBHOOKS === 'true' };

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

// Membership items (keyed by user) through this function's own role; the tenant's record
// and member list through the tenant-scoped session (see tenantDirectory below).
const memberships = new TenantRegistry(platformDb, config.REGISTRY_TABLE_NAME);
const cognito = new CognitoIdentityProviderClient({});
cognito.middlewareStack.use(abortWithRequest());
// Invitations, like the tenant's record and member list, through the tenant-scoped session:
// IAM lets it reach `INVITES#<its tenant>` only.
const tenantDirectory = (tenantId: string) =>
  new TenantDirectory({
    registry: new TenantRegistry(data.scopedClient({ tenantId }), config.REGISTRY_TABLE_NAME),
    memberships,
    invitations: new Invitations(data.scopedClient({ tenantId }), config.REGISTRY_TABLE_NAME),
    cognito,
    userPoolId: config.USER_POOL_ID,
  }).forTenant(tenantId);

const mcp = createMcpEndpoint(
  (authInfo) => {
    // The context was put there by serveMcpRequest from the authorizer's output; parse it
    // again rather than trust a cast.
    const context = TenantContextSchema.parse(authInfo?.extra?.tenant);
    const table = data.forTenant(context);
    return buildMcpServer({
      context,
      notes: new Notes(table, cryptography.forTenant(context.tenantId, context.kmsKeyArn)),
      tenant: tenantDirectory(context.tenantId),
      secrets: secrets.forTenant(context.tenantId, table),
      usage: {
        report: (from, to) => usageMeter.report(context.tenantId, from, to),
        budgetSpent: () => budget.spent(context.tenantId),
      },
      outbound,
      invitationLink: (code) => invitationLink(config.API_BASE_URL, code),
      logger,
    });
  },
  {
    maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES,
    // The SDK's reasons may quote client-chosen headers (`Mcp-Name`): cut them short.
    onerror: (error) =>
      logger.warn('MCP request rejected', { reason: error.message.slice(0, 300) }),
  },
);

const options = {
  resourceUrl: new URL(endpointUrls(config.API_BASE_URL).resource),
  allowedOriginHostnames: config.ALLOWED_ORIGIN_HOSTNAMES,
  maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES,
  responseTimeoutMs: 25_000,
};

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
  .use(observed({ correlationId: apiRequestId }))
  .handler((event, context) =>
    serveMcpRequest(event, {
      mcp,
      logger,
      options,
      gate,
      // Leave a second to answer and write the usage record before Lambda stops the invocation.
      remainingTimeMs: () => context.getRemainingTimeInMillis() - 1_000,
      requestId: event.requestContext.requestId,
      prefetch: (context) => credentials.forTenant(context.tenantId),
    }),
  );
