import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { ProvisioningQueue } from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { pseudonymsFromSecret } from '../shared/platform/pseudonym.js';
import { Invitations } from '../shared/registry/invitations.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { POST_CONFIRMATION_CONFIG } from './config.js';
import { createTenantOnSignUp } from './create-tenant.js';

/** Cognito post-confirmation trigger: a self sign-up creates its tenant. */
const config = readConfig(POST_CONFIRMATION_CONFIG);
// Cognito gives the trigger 5 seconds: short timeouts, few attempts.
const fast = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500 },
};
const registry = new TenantRegistry(createDocumentClient(fast), config.REGISTRY_TABLE_NAME);
const queue = new ProvisioningQueue(new SQSClient(fast), config.PROVISIONING_QUEUE_URL);
const invitations = new Invitations(createDocumentClient(fast), config.REGISTRY_TABLE_NAME);
const pseudonyms = pseudonymsFromSecret(
  config.PSEUDONYM_KEY_SECRET_ID,
  new SecretsManagerClient(fast),
);

export const handler = middy<
  PostConfirmationTriggerEvent,
  PostConfirmationTriggerEvent,
  Error,
  Context
>()
  .use(observed())
  .handler(async (event) => {
    try {
      return await createTenantOnSignUp(event, {
        registry,
        queue,
        logger,
        pseudonyms,
        invitations,
      });
    } catch (error) {
      logger.error('Could not create the tenant for a sign-up', errorFields(error));
      // Cognito shows this to the person confirming; the log line has the cause.
      throw new Error('We could not set up your organisation. Please try again.');
    }
  });
