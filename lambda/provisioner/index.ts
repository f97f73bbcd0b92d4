import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ProvisioningMessageSchema } from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { PROVISIONER_CONFIG } from './config.js';
import { provisionTenant } from './provision.js';

/** Provisions tenants from the FIFO provisioning queue (one message at a time). */
const config = readConfig(PROVISIONER_CONFIG);

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
