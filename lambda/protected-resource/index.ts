import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { protectedResourceMetadata } from '../shared/edge/oauth-metadata.js';
import { readConfig } from '../shared/platform/config.js';
import { apiRequestId, observed } from '../shared/platform/observability.js';
import { PROTECTED_RESOURCE_CONFIG } from './config.js';

/**
 * `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728), without authentication: tells
 * MCP clients which authorization server issues tokens for this API (the façade on this same
 * origin) and with which scope.
 * The document depends on configuration only, so it is built once.
 */
const config = readConfig(PROTECTED_RESOURCE_CONFIG);

const response: APIGatewayProxyResult = {
  statusCode: 200,
  headers: {
    'content-type': 'application/json',
    'cache-control': 'public, max-age=3600',
    // Browser-based MCP clients (such as MCP Inspector) read this document cross-origin.
    'access-control-allow-origin': '*',
  },
  body: JSON.stringify(
    protectedResourceMetadata({
      apiBaseUrl: config.API_BASE_URL,
      scope: config.REQUIRED_SCOPE,
    }),
  ),
};

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
  .use(observed({ correlationId: apiRequestId }))
  .handler(async () => response);
