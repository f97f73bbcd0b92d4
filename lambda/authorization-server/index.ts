import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { KMSClient } from '@aws-sdk/client-kms';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createAccessTokenVerifier } from '../shared/edge/access-token.js';
import { KmsJwtSigner } from '../shared/edge/jwt-signer.js';
import { endpointUrls, facadeUrls } from '../shared/edge/oauth-metadata.js';
import { getOutbound } from '../shared/outbound/outbound.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { apiRequestId, logger, observed } from '../shared/platform/observability.js';
import { Agents } from '../shared/registry/agents.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { ClientDirectory } from './clients.js';
import { AUTHORIZATION_SERVER_CONFIG } from './config.js';
import { AuthorizationFacade, type FacadeRequest } from './facade.js';
import { invitationSignUp } from './invitation-sign-up.js';
import { FacadeStore } from './store.js';
import { CognitoUpstream } from './upstream.js';

/** The authorization-server façade in front of Cognito (see facade.ts), behind the REST API. */
const config = readConfig(AUTHORIZATION_SERVER_CONFIG);

const db = createDocumentClient();
const kms = new KMSClient({});
const store = new FacadeStore(db, config.OAUTH_TABLE_NAME);
const facade = new AuthorizationFacade({
  apiBaseUrl: config.API_BASE_URL,
  scope: config.REQUIRED_SCOPE,
  jwksUri: config.JWKS_URI,
  store,
  logger,
  clients: new ClientDirectory({
    preRegistered: config.PRE_REGISTERED_CLIENTS.map((client) => ({
      ...client,
      kind: 'pre-registered' as const,
    })),
    store,
    forbiddenHosts: [new URL(config.API_BASE_URL).hostname.toLowerCase()],
    anyPort: config.ALLOW_LOOPBACK_CLIENT_METADATA === 'true',
    fetchDocument: (url) =>
      getOutbound(url, {
        allowLoopback: config.ALLOW_LOOPBACK_CLIENT_METADATA === 'true',
        maxBytes: 5 * 1024,
        timeoutMs: 3_000,
      }),
  }),
  upstream: new CognitoUpstream({
    domainUrl: config.COGNITO_DOMAIN_URL,
    clientId: config.COGNITO_CLIENT_ID,
    callbackUrl: facadeUrls(config.API_BASE_URL).callback,
    // The MCP scope only: no `openid`, so the access token cannot read the person's profile
    // from Cognito's userInfo endpoint, which is more than the consent page offers.
    scope: config.REQUIRED_SCOPE,
  }),
  agentGrants: {
    agents: new Agents(db, config.REGISTRY_TABLE_NAME),
    registry: new TenantRegistry(db, config.REGISTRY_TABLE_NAME),
    signer: new KmsJwtSigner(kms, config.TOKEN_SIGNING_KEY_ARN),
    published: [new KmsJwtSigner(kms, config.WEBHOOK_SIGNING_KEY_ARN)],
    subjectTokens: createAccessTokenVerifier({
      issuer: config.JWT_ISSUER,
      jwksUri: config.JWKS_URI,
      clientIds: [config.COGNITO_CLIENT_ID],
      requiredScope: config.REQUIRED_SCOPE,
      resource: endpointUrls(config.API_BASE_URL).resource,
    }),
  },
  invitationSignUp: invitationSignUp(
    new CognitoIdentityProviderClient({}),
    config.COGNITO_CLIENT_ID,
  ),
});

/** The request as the façade reads it, from the proxy event, once. */
function facadeRequest(event: APIGatewayProxyEvent): FacadeRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  // A browser may split cookies over several Cookie headers (HTTP/2): read them all.
  const cookies = Object.entries(event.multiValueHeaders ?? {})
    .filter(([name]) => name.toLowerCase() === 'cookie')
    .flatMap(([, values]) => values ?? []);
  if (cookies.length) headers.cookie = cookies.join('; ');
  const query: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    query[name] = values ?? [];
  }
  return {
    method: event.httpMethod,
    path: event.resource,
    query,
    headers,
    body: event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? ''),
    sourceIp: event.requestContext.identity?.sourceIp ?? 'unknown',
  };
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
  .use(observed({ correlationId: apiRequestId }))
  .handler(async (event) => facade.handle(facadeRequest(event)));
