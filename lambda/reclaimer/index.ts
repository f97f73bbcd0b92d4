import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { UsageMeter } from '../shared/fair-use/usage-meter.js';
import { type ReclaimReport, reclaimIdleTenants } from '../shared/lifecycle/reclaim.js';
import { TenantAdmin } from '../shared/lifecycle/tenant-admin.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { logger, observed } from '../shared/platform/observability.js';
import { Agents } from '../shared/registry/agents.js';
import { Invitations } from '../shared/registry/invitations.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { RECLAIMER_CONFIG } from './config.js';

/**
 * Scheduled daily: notices idle free tenants and offboards those still idle when the notice
 * period has passed (lambda/shared/lifecycle/reclaim.ts). A run in which a tenant could not be
 * handled fails after finishing the others, so Lambda retries it (idempotent) and a run that
 * keeps failing lands in the dead-letter queue, which has an alarm.
 */
const config = readConfig(RECLAIMER_CONFIG);
const db = createDocumentClient();
const registry = new TenantRegistry(db, config.REGISTRY_TABLE_NAME);
const clients = {
  cognito: new CognitoIdentityProviderClient({}),
  apigw: new APIGatewayClient({}),
  kms: new KMSClient({}),
  tagging: new ResourceGroupsTaggingAPIClient({}),
  secretsManager: new SecretsManagerClient({}),
};
const ses = new SESv2Client({});
const usage = new UsageMeter(createDocumentClient(), config.USAGE_TABLE_NAME);

/** Offboards one tenant as the operator CLI does, its steps logged with the tenant's id. */
const offboard = (tenantId: string) =>
  new TenantAdmin({
    registry,
    invitations: new Invitations(db, config.REGISTRY_TABLE_NAME),
    agents: new Agents(db, config.REGISTRY_TABLE_NAME),
    userPoolId: config.USER_POOL_ID,
    usagePlanIds: config.USAGE_PLAN_IDS,
    ...clients,
    data: { db, tableName: config.DATA_TABLE_NAME },
    progress: (step) => logger.info('Offboarding step', { tenantId, step }),
  }).offboard(tenantId);

export const handler = middy<ScheduledEvent, ReclaimReport, Error, Context>()
  .use(observed())
  .handler(async (_event, context) => {
    const report = await reclaimIdleTenants(
      {
        db,
        registryTableName: config.REGISTRY_TABLE_NAME,
        registry,
        usage,
        ses,
        offboard,
        logger,
        remainingMs: () => context.getRemainingTimeInMillis(),
      },
      {
        idleDays: config.IDLE_DAYS,
        noticeDays: config.NOTICE_DAYS,
        sender: config.NOTICE_SENDER,
        maxTenantsPerRun: config.MAX_TENANTS_PER_RUN,
        mcpUrl: config.MCP_URL,
      },
    );
    if (report.failed > 0) {
      throw new Error(`${report.failed} tenant(s) could not be handled: see the log lines above`);
    }
    return report;
  });
