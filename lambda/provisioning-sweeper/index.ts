import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import * as z from 'zod';
import { ProvisioningQueue } from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig, tableName } from '../shared/platform/config.js';
import { logger, observed } from '../shared/platform/observability.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { requeueStaleTenants } from './sweep.js';

/** Scheduled: tenants stuck in PROVISIONING are queued again. */
const config = readConfig({
  REGISTRY_TABLE_NAME: tableName(),
  PROVISIONING_QUEUE_URL: z.url({ protocol: /^https?$/ }),
  STALE_AFTER_MINUTES: z.coerce.number().int().positive().default(15),
});
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
