import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { ProvisioningQueue } from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { logger, observed } from '../shared/platform/observability.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { PROVISIONING_SWEEPER_CONFIG } from './config.js';
import { requeueStaleTenants } from './sweep.js';

/** Scheduled: tenants stuck in PROVISIONING are queued again. */
const config = readConfig(PROVISIONING_SWEEPER_CONFIG);
const deps = {
  registry: new TenantRegistry(createDocumentClient(), config.REGISTRY_TABLE_NAME),
  queue: new ProvisioningQueue(new SQSClient({}), config.PROVISIONING_QUEUE_URL),
  logger,
};

export const handler = middy<ScheduledEvent, { requeued: string[] }, Error, Context>()
  .use(observed())
  .handler(async () => ({
    requeued: await requeueStaleTenants(deps, config.STALE_AFTER_MINUTES * 60_000),
  }));
