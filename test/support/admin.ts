import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { parseUsagePlanIds } from '../../lambda/shared/edge/usage-plans.js';
import { ProvisioningQueue } from '../../lambda/shared/lifecycle/provisioning-queue.js';
import { TenantAdmin } from '../../lambda/shared/lifecycle/tenant-admin.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { Agents } from '../../lambda/shared/registry/agents.js';
import { Invitations } from '../../lambda/shared/registry/invitations.js';
import { localRegistry } from './registry.js';

/**
 * The admin module wired to the local stack, as the CLI wires it to a deployed one. Offboarding
 * waits the tests' authorizer cache time plus 3 s between cutting access and deleting, instead
 * of the deployed 90 s: the tests' requests end well within 3 s, and the racing-writer test in
 * lifecycle.test.ts checks that nothing written meanwhile survives.
 */
export function localAdmin(progress?: (message: string) => void): TenantAdmin {
  return new TenantAdmin({
    drainMs: (inject('authorizerCacheTtlSeconds') + 3) * 1000,
    registry: localRegistry(),
    invitations: new Invitations(createDocumentClient(), process.env.REGISTRY_TABLE_NAME as string),
    agents: new Agents(createDocumentClient(), process.env.REGISTRY_TABLE_NAME as string),
    cognito: new CognitoIdentityProviderClient({}),
    userPoolId: process.env.USER_POOL_ID as string,
    apigw: new APIGatewayClient({}),
    usagePlanIds: parseUsagePlanIds(process.env.USAGE_PLAN_IDS as string),
    kms: new KMSClient({}),
    tagging: new ResourceGroupsTaggingAPIClient({}),
    secretsManager: new SecretsManagerClient({}),
    data: { db: createDocumentClient(), tableName: process.env.DATA_TABLE_NAME as string },
    queue: new ProvisioningQueue(new SQSClient({}), process.env.PROVISIONING_QUEUE_URL as string),
    progress,
  });
}
