import middy from '@middy/core';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { createAccessTokenVerifier } from '../shared/edge/access-token.js';
import { endpointUrls } from '../shared/edge/oauth-metadata.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import {
  emitMetric,
  errorFields,
  logger,
  METRIC,
  observed,
} from '../shared/platform/observability.js';
import { pseudonymsFromSecret } from '../shared/platform/pseudonym.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { authorize, TokenRefused } from './authorize.js';
import { AUTHORIZER_CONFIG } from './config.js';

/** API Gateway Lambda authorizer (TOKEN) for the MCP endpoint. */
const config = readConfig(AUTHORIZER_CONFIG);
const pseudonyms = pseudonymsFromSecret(config.PSEUDONYM_KEY_SECRET_ID);

const verifier = createAccessTokenVerifier({
  issuer: config.JWT_ISSUER,
  jwksUri: config.JWKS_URI,
  clientIds: config.CLIENT_IDS,
  requiredScope: config.REQUIRED_SCOPE,
  resource: endpointUrls(config.API_BASE_URL).resource,
});
// Fetch the signing keys and the pseudonym key during initialisation; if that fails, the
// first request fetches them.
await Promise.all([
  verifier.hydrate().catch((error) => logger.warn('JWKS not loaded at start', errorFields(error))),
  pseudonyms().catch((error) =>
    logger.warn('Pseudonym key not loaded at start', errorFields(error)),
  ),
]);

const registry = new TenantRegistry(createDocumentClient(), config.REGISTRY_TABLE_NAME);

export const handler = middy<
  APIGatewayTokenAuthorizerEvent,
  APIGatewayAuthorizerResult,
  Error,
  Context
>()
  .use(observed())
  .handler(async (event) => {
    try {
      const result = await authorize(event, { verifier, registry, logger, pseudonyms });
      if (result.policyDocument.Statement.some((s) => s.Effect === 'Deny')) {
        emitMetric(METRIC.authorizerDenied);
      }
      return result;
    } catch (error) {
      if (error instanceof TokenRefused) emitMetric(METRIC.authorizerRefused);
      throw error;
    }
  });
