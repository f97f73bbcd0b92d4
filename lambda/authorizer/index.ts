import { KMSClient } from '@aws-sdk/client-kms';
import middy from '@middy/core';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { createAccessTokenVerifier } from '../shared/edge/access-token.js';
import { KmsJwtSigner } from '../shared/edge/jwt-signer.js';
import { endpointUrls, facadeUrls } from '../shared/edge/oauth-metadata.js';
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
import { Agents } from '../shared/registry/agents.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { authorize, TokenRefused } from './authorize.js';
import { AUTHORIZER_CONFIG } from './config.js';

/** API Gateway Lambda authorizer (TOKEN) for the MCP endpoint. */
const config = readConfig(AUTHORIZER_CONFIG);
const pseudonyms = pseudonymsFromSecret(config.PSEUDONYM_KEY_SECRET_ID);

// The platform's tokens (agents, delegations) are checked against the signing key's public
// half, read from KMS: the authorizer never fetches keys from the API it guards.
const platformIssuer = facadeUrls(config.API_BASE_URL).issuer;
const signer = new KmsJwtSigner(new KMSClient({}), config.TOKEN_SIGNING_KEY_ARN);
const verifier = createAccessTokenVerifier({
  issuer: config.JWT_ISSUER,
  jwksUri: config.JWKS_URI,
  clientIds: config.CLIENT_IDS,
  requiredScope: config.REQUIRED_SCOPE,
  resource: endpointUrls(config.API_BASE_URL).resource,
  platform: { issuer: platformIssuer, jwks: () => signer.jwks() },
});
// Fetch the signing keys and the pseudonym key during initialisation; if that fails, the
// first request fetches them.
await Promise.all([
  verifier.hydrate().catch((error) => logger.warn('JWKS not loaded at start', errorFields(error))),
  pseudonyms().catch((error) =>
    logger.warn('Pseudonym key not loaded at start', errorFields(error)),
  ),
]);

const db = createDocumentClient();
const registry = new TenantRegistry(db, config.REGISTRY_TABLE_NAME);
const agents = new Agents(db, config.REGISTRY_TABLE_NAME);

export const handler = middy<
  APIGatewayTokenAuthorizerEvent,
  APIGatewayAuthorizerResult,
  Error,
  Context
>()
  .use(observed())
  .handler(async (event) => {
    try {
      const result = await authorize(event, {
        verifier,
        platformIssuer,
        registry,
        agents,
        logger,
        pseudonyms,
        poolApiKeys: config.POOL_API_KEYS,
      });
      if (result.policyDocument.Statement.some((s) => s.Effect === 'Deny')) {
        emitMetric(METRIC.authorizerDenied);
      }
      return result;
    } catch (error) {
      if (error instanceof TokenRefused) emitMetric(METRIC.authorizerRefused);
      throw error;
    }
  });
