import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { parseUsagePlanIds } from '../shared/edge/usage-plans.js';
import { ProvisioningMessageSchema } from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig, tableName } from '../shared/platform/config.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { provisionTenant } from './provision.js';

/** Provisions tenants from the FIFO provisioning queue (one message at a time). */
const config = readConfig({
  REGISTRY_TABLE_NAME: tableName(),
  USAGE_PLAN_IDS: z.string().transform(parseUsagePlanIds),
  DATA_ACCESS_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'not a role ARN'),
  PROVISIONER_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'not a role ARN'),
  PROVISIONING_QUEUE_URL: z.url({ protocol: /^https?$/ }),
  /**
   * First retry delay, doubled on each further receive: with five tries the last comes after
   * 7.5 minutes, beyond the few minutes AWS may need to make a new resource visible.
   */
  RETRY_BASE_SECONDS: z.coerce.number().int().min(0).default(30),
});

const deps = {
  registry: new TenantRegistry(createDocumentClient(), config.REGISTRY_TABLE_NAME),
  kms: new KMSClient({}),
  tagging: new ResourceGroupsTaggingAPIClient({}),
  apigw: new APIGatewayClient({}),
  usagePlanIds: config.USAGE_PLAN_IDS,
  dataAccessRoleArn: config.DATA_ACCESS_ROLE_ARN,
  provisionerRoleArn: config.PROVISIONER_ROLE_ARN,
  logger,
};
const sqs = new SQSClient({});

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(observed())
  .handler(async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const { tenantId } = ProvisioningMessageSchema.parse(JSON.parse(record.body));
        logger.appendKeys({ tenantId });
        await provisionTenant(tenantId, deps);
      } catch (error) {
        const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
        const delay = Math.min(900, config.RETRY_BASE_SECONDS * 2 ** (receives - 1));
        logger.error('Provisioning failed; it will be retried', {
          ...errorFields(error),
          receives,
          retryInSeconds: delay,
        });
        // Back off before the next attempt; after the queue's maxReceiveCount the message
        // goes to the dead-letter queue (and its alarm).
        await sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: config.PROVISIONING_QUEUE_URL,
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: delay,
            }),
          )
          .catch((visibilityError: unknown) =>
            logger.warn('Could not delay the retry', errorFields(visibilityError)),
          );
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
