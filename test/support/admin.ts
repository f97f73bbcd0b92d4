import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createDocumentClient } from '../../lambda/shared/aws-clients.js';
import { TenantAdmin } from '../../lambda/shared/tenant-admin.js';
import { parseUsagePlanIds } from '../../lambda/shared/usage-plans.js';
import { localRegistry } from './registry.js';

/** The admin module wired to the local stack, as the CLI wires it to a deployed one. */
export function localAdmin(progress?: (message: string) => void): TenantAdmin {
  return new TenantAdmin({
    registry: localRegistry(),
    cognito: new CognitoIdentityProviderClient({}),
    userPoolId: process.env.USER_POOL_ID as string,
    apigw: new APIGatewayClient({}),
    usagePlanIds: parseUsagePlanIds(process.env.USAGE_PLAN_IDS as string),
    kms: new KMSClient({}),
    tagging: new ResourceGroupsTaggingAPIClient({}),
    secretsManager: new SecretsManagerClient({}),
    data: { db: createDocumentClient(), tableName: process.env.DATA_TABLE_NAME as string },
    progress,
  });
}
