import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/aws-clients.js';
import { readConfig, tableName } from '../shared/config.js';
import { logger } from '../shared/observability.js';
import { TenantRegistry } from '../shared/registry.js';
import { addTenantClaims } from './tenant-claims.js';

/** Cognito pre-token-generation trigger (event version 2): puts the tenant into the tokens. */
const config = readConfig({ REGISTRY_TABLE_NAME: tableName() });
// Cognito gives the trigger 5 seconds: fail fast rather than retry into its deadline.
const registry = new TenantRegistry(
  createDocumentClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500 },
  }),
  config.REGISTRY_TABLE_NAME,
);

export const handler = middy<
  PreTokenGenerationV2TriggerEvent,
  PreTokenGenerationV2TriggerEvent,
  Error,
  Context
>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler((event: PreTokenGenerationV2TriggerEvent) =>
    addTenantClaims(event, { registry, logger }),
  );
