import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeysCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  type KeyMetadata,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { TENANT_TAG_KEY, tenantKeyAlias, tenantKeyPolicy } from '../shared/isolation.js';
import type { TenantRecord, TenantRegistry } from '../shared/registry.js';
import type { TenantId } from '../shared/tenant.js';
import { ignore, placeKeyInPlan, type UsagePlanIds } from '../shared/usage-plans.js';

export interface ProvisionDeps {
  readonly registry: TenantRegistry;
  readonly kms: KMSClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly apigw: APIGatewayClient;
  readonly usagePlanIds: UsagePlanIds;
  readonly dataAccessRoleArn: string;
  readonly logger: Logger;
}

export type ProvisionOutcome = 'activated' | 'skipped';

/** Tags every resource the project creates for a tenant carries. */
const MANAGED_BY = { key: 'ManagedBy', value: 'multi-tenant-mcp' } as const;

/**
 * Provisions a tenant: its own KMS key (key policy, tags, alias), its API key in its tier's
 * usage plan, then ACTIVE. Each step is recorded in the registry as soon as it is done, and
 * each step first looks for what an interrupted earlier run may have created, so a crash at
 * any point followed by a retry ends with exactly one key, one API key and one plan
 * membership.
 */
export async function provisionTenant(
  tenantId: TenantId,
  deps: ProvisionDeps,
): Promise<ProvisionOutcome> {
  const { registry, logger } = deps;
  const tenant = await registry.getTenant(tenantId);
  if (tenant?.status !== 'PROVISIONING') {
    logger.info('Nothing to provision', { tenantStatus: tenant?.status ?? 'MISSING' });
    return 'skipped';
  }

  const kmsKeyArn = tenant.kmsKeyArn ?? (await ensureTenantKey(tenantId, deps));
  if (!tenant.kmsKeyArn) await registry.recordTenantResources(tenantId, { kmsKeyArn });
  logger.info('Tenant key ready', { step: 'kms-key' });

  const apiKey =
    tenant.apiKeyId && tenant.apiKeyValue
      ? { id: tenant.apiKeyId, value: tenant.apiKeyValue }
      : await ensureApiKey(tenant, deps);
  if (!tenant.apiKeyId) {
    await registry.recordTenantResources(tenantId, {
      apiKeyId: apiKey.id,
      apiKeyValue: apiKey.value,
    });
  }
  logger.info('API key ready', { step: 'api-key' });

  await placeKeyInPlan(deps.apigw, apiKey.id, tenant.tier, deps.usagePlanIds);
  logger.info('API key in its tier plan', { step: 'usage-plan', tier: tenant.tier });

  await registry.transitionTenant(tenantId, { from: ['PROVISIONING'], to: 'ACTIVE' });
  logger.info('Tenant active', { step: 'active' });
  return 'activated';
}

/** The tenant's key: by alias, else one an interrupted run created (found by tag), else new. */
async function ensureTenantKey(tenantId: TenantId, deps: ProvisionDeps): Promise<string> {
  const alias = tenantKeyAlias(tenantId);
  const existing = await describe(deps.kms, alias);
  if (existing?.Arn) return existing.Arn;

  const orphans = await tenantKeys(tenantId, deps);
  let key = orphans[0];
  for (const extra of orphans.slice(1)) {
    deps.logger.warn('Scheduling deletion of a duplicate tenant key', { keyId: extra.KeyId });
    await deps.kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: extra.KeyId, PendingWindowInDays: 7 }),
    );
  }
  if (!key) {
    const created = await deps.kms.send(
      new CreateKeyCommand({
        Description: `Tenant ${tenantId}: envelope encryption of its data`,
        Policy: tenantKeyPolicy({ tenantId, dataAccessRoleArn: deps.dataAccessRoleArn }),
        Tags: [
          { TagKey: TENANT_TAG_KEY, TagValue: tenantId },
          { TagKey: MANAGED_BY.key, TagValue: MANAGED_BY.value },
        ],
      }),
    );
    key = created.KeyMetadata;
  }
  if (!key?.KeyId || !key.Arn) throw new Error('KMS returned no key');
  await deps.kms
    .send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyId }))
    .catch(ignore('AlreadyExistsException'));
  return key.Arn;
}

/** Usable keys tagged with the tenant, oldest first. */
async function tenantKeys(tenantId: TenantId, deps: ProvisionDeps): Promise<KeyMetadata[]> {
  const { ResourceTagMappingList = [] } = await deps.tagging.send(
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
    const metadata = ResourceARN ? await describe(deps.kms, ResourceARN) : undefined;
    if (metadata?.KeyState === 'Enabled') keys.push(metadata);
  }
  return keys.sort((a, b) => (a.CreationDate?.getTime() ?? 0) - (b.CreationDate?.getTime() ?? 0));
}

async function describe(kms: KMSClient, keyId: string): Promise<KeyMetadata | undefined> {
  const result = await kms
    .send(new DescribeKeyCommand({ KeyId: keyId }))
    .catch(ignore('NotFoundException'));
  return result?.KeyMetadata;
}

/** The tenant's API key: one an interrupted run created (found by name), else new. */
async function ensureApiKey(
  tenant: TenantRecord,
  deps: ProvisionDeps,
): Promise<{ id: string; value: string }> {
  const name = apiKeyName(tenant.tenantId);
  const found: Array<{ id: string; value: string; created: number }> = [];
  let position: string | undefined;
  do {
    const page = await deps.apigw.send(
      new GetApiKeysCommand({ nameQuery: name, includeValues: true, limit: 500, position }),
    );
    for (const key of page.items ?? []) {
      if (key.name === name && key.id && key.value) {
        found.push({ id: key.id, value: key.value, created: key.createdDate?.getTime() ?? 0 });
      }
    }
    position = page.position;
  } while (position);
  found.sort((a, b) => a.created - b.created);
  for (const extra of found.slice(1)) {
    deps.logger.warn('Deleting a duplicate tenant API key', { apiKeyId: extra.id });
    await deps.apigw
      .send(new DeleteApiKeyCommand({ apiKey: extra.id }))
      .catch(ignore('NotFoundException'));
  }
  if (found[0]) return found[0];

  const created = await deps.apigw.send(
    new CreateApiKeyCommand({
      name,
      description: `Usage-plan key of tenant ${tenant.tenantId}`,
      enabled: true,
    }),
  );
  if (!created.id || !created.value) throw new Error('API Gateway returned no API key');
  return { id: created.id, value: created.value };
}

export function apiKeyName(tenantId: TenantId): string {
  return `tenant-${tenantId}`;
}
