import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  ProvisioningMessageSchema,
  ProvisioningQueue,
} from '../shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { TenantCredentials } from '../shared/tenancy/credentials.js';
import { TenantCryptography } from '../shared/tenancy/crypto.js';
import { TenantDataAccess } from '../shared/tenancy/data.js';
import { PROVISIONER_CONFIG } from './config.js';
import { provisionTenant } from './provision.js';
import { continueTierChange, type TierMigrationDeps } from './tier-migration.js';

/**
 * Provisions tenants and carries their tier changes, from the FIFO provisioning queue (one
 * message at a time, one message group per tenant): a message names a tenant, and the tenant's
 * record says what is left to do.
 */
const config = readConfig(PROVISIONER_CONFIG);

// The tenant's own session (the data-access role tagged with it): the only principal the
// pooled key and a tenant's key let seal or open its data, here to make its data key and to
// re-seal its fields when it changes tier.
const credentials = new TenantCredentials(new STSClient({}), {
  roleArn: config.DATA_ACCESS_ROLE_ARN,
});
const data = new TenantDataAccess({ tableName: config.DATA_TABLE_NAME, credentials });
const deps: Omit<TierMigrationDeps, 'remainingMs'> = {
  registry: new TenantRegistry(createDocumentClient(), config.REGISTRY_TABLE_NAME),
  kms: new KMSClient({}),
  tagging: new ResourceGroupsTaggingAPIClient({}),
  apigw: new APIGatewayClient({}),
  usagePlanIds: config.USAGE_PLAN_IDS,
  dataAccessRoleArn: config.DATA_ACCESS_ROLE_ARN,
  provisionerRoleArn: config.PROVISIONER_ROLE_ARN,
  pooledKeyArn: config.POOLED_KEY_ARN,
  tenantKms: (tenantId) => new KMS({ credentials: () => credentials.forTenant(tenantId) }),
  tenantDb: (tenantId) => data.scopedClient({ tenantId }),
  dataTableName: config.DATA_TABLE_NAME,
  cryptography: new TenantCryptography({ credentials, pooledKeyArn: config.POOLED_KEY_ARN }),
  drainMs: config.TIER_CHANGE_DRAIN_SECONDS * 1000,
  logger,
};
const sqs = new SQSClient({});
const queue = new ProvisioningQueue(sqs, config.PROVISIONING_QUEUE_URL);

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(observed())
  .handler(async (event, context) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    const later = (receiptHandle: string, seconds: number) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: config.PROVISIONING_QUEUE_URL,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    for (const record of event.Records) {
      try {
        const { tenantId } = ProvisioningMessageSchema.parse(JSON.parse(record.body));
        logger.appendKeys({ tenantId });
        if ((await provisionTenant(tenantId, deps)) === 'activated') continue;
        const progress = await continueTierChange(tenantId, {
          ...deps,
          remainingMs: () => context.getRemainingTimeInMillis(),
        });
        if (progress.state === 'waiting' && progress.waitSeconds === 0) {
          // Stopped before the time ran out: on in a new message, not a retry.
          await queue.request(tenantId, `go-on-${record.messageId}`);
        } else if (progress.state === 'waiting') {
          // Back on the queue once the step may go on (the message returns after the delay).
          logger.info('Tier change waits for keys still in use', progress);
          await later(record.receiptHandle, progress.waitSeconds);
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
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
        await later(record.receiptHandle, delay).catch((visibilityError: unknown) =>
          logger.warn('Could not delay the retry', errorFields(visibilityError)),
        );
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
