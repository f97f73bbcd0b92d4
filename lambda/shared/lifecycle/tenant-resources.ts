import { type APIGatewayClient, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { DescribeKeyCommand, type KeyMetadata, type KMSClient } from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { ignore } from '../edge/usage-plans.js';
import { SERVICE_NAME } from '../platform/service.js';
import { TENANT_TAG_KEY } from '../tenancy/isolation.js';
import type { TenantId } from '../tenancy/tenant.js';

/**
 * Finding what exists for a tenant in AWS, whether or not the registry recorded it: how a
 * retried provisioning adopts what a crashed run created, and how offboarding finds what a
 * run it raced with created.
 */

/** The tag every resource the project creates for a tenant carries. */
export const MANAGED_BY = { key: 'ManagedBy', value: SERVICE_NAME } as const;

export function apiKeyName(tenantId: TenantId): string {
  return `tenant-${tenantId}`;
}

export async function describeKey(kms: KMSClient, keyId: string): Promise<KeyMetadata | undefined> {
  const result = await kms
    .send(new DescribeKeyCommand({ KeyId: keyId }))
    .catch(ignore('NotFoundException'));
  return result?.KeyMetadata;
}

/** Keys tagged with the tenant (and ManagedBy) in one of `states`, oldest first. */
export async function findTenantKeys(
  tenantId: TenantId,
  clients: { kms: KMSClient; tagging: ResourceGroupsTaggingAPIClient },
  states: readonly string[] = ['Enabled'],
): Promise<KeyMetadata[]> {
  const { ResourceTagMappingList = [] } = await clients.tagging.send(
    new GetResourcesCommand({
      ResourceTypeFilters: ['kms:key'],
      TagFilters: [
        { Key: TENANT_TAG_KEY, Values: [tenantId] },
        { Key: MANAGED_BY.key, Values: [MANAGED_BY.value] },
      ],
    }),
  );
  const keys: KeyMetadata[] = [];
  for (const { ResourceARN } of ResourceTagMappingList) {
    const metadata = ResourceARN ? await describeKey(clients.kms, ResourceARN) : undefined;
    if (metadata?.KeyState && states.includes(metadata.KeyState)) keys.push(metadata);
  }
  return keys.sort((a, b) => (a.CreationDate?.getTime() ?? 0) - (b.CreationDate?.getTime() ?? 0));
}

/** API keys named for the tenant, oldest first. */
export async function findApiKeys(
  tenantId: TenantId,
  apigw: APIGatewayClient,
): Promise<Array<{ id: string; value: string }>> {
  const name = apiKeyName(tenantId);
  const found: Array<{ id: string; value: string; created: number }> = [];
  let position: string | undefined;
  do {
    const page = await apigw.send(
      new GetApiKeysCommand({ nameQuery: name, includeValues: true, limit: 500, position }),
    );
    for (const key of page.items ?? []) {
      if (key.name === name && key.id && key.value) {
        found.push({ id: key.id, value: key.value, created: key.createdDate?.getTime() ?? 0 });
      }
    }
    position = page.position;
  } while (position);
  return found.sort((a, b) => a.created - b.created).map(({ id, value }) => ({ id, value }));
}
