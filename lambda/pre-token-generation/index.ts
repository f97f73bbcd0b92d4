import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { ProvisioningQueue } from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { pseudonymsFromSecret } from '../shared/platform/pseudonym.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { PRE_TOKEN_GENERATION_CONFIG } from './config.js';
import { addTenantClaims } from './tenant-claims.js';

/** Cognito pre-token-generation trigger (event version 2): puts the tenant into the tokens. */
const config = readConfig(PRE_TOKEN_GENERATION_CONFIG);
// Cognito gives the trigger 5 seconds: fail fast rather than retry into its deadline.
const fast = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500 },
};
const registry = new TenantRegistry(createDocumentClient(fast), config.REGISTRY_TABLE_NAME);
const queue = new ProvisioningQueue(new SQSClient(fast), config.PROVISIONING_QUEUE_URL);
const pseudonyms = pseudonymsFromSecret(
  config.PSEUDONYM_KEY_SECRET_ID,
  new SecretsManagerClient(fast),
);
pseudonyms().catch((error) => logger.warn('Pseudonym key not loaded at start', errorFields(error)));

export const handler = middy<
  PreTokenGenerationV2TriggerEvent,
  PreTokenGenerationV2TriggerEvent,
  Error,
  Context
>()
  .use(observed())
  .handler((event: PreTokenGenerationV2TriggerEvent, context: Context) =>
    addTenantClaims(event, {
      registry,
      queue,
      logger,
      pseudonyms,
      remainingMs: () => context.getRemainingTimeInMillis(),
    }),
  );
