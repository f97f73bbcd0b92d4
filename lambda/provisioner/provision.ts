import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  DeleteApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  type KMS,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ignore, placeKeyInPlan, type UsagePlanIds } from '../shared/edge/usage-plans.js';
import { TIERS, type TierName } from '../shared/fair-use/tiers.js';
import {
  apiKeyName,
  describeKey,
  findApiKeys,
  findTenantKeys,
  MANAGED_BY,
} from '../shared/lifecycle/tenant-resources.js';
import { ConflictError } from '../shared/platform/errors.js';
import type { TenantRecord, TenantRegistry } from '../shared/registry/registry.js';
import { newPooledDataKey } from '../shared/tenancy/crypto.js';
import { TENANT_TAG_KEY, tenantKeyAlias, tenantKeyPolicy } from '../shared/tenancy/isolation.js';
import type { TenantId } from '../shared/tenancy/tenant.js';

export interface ProvisionDeps {
  readonly registry: TenantRegistry;
  readonly kms: KMSClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly apigw: APIGatewayClient;
  readonly usagePlanIds: UsagePlanIds;
  readonly dataAccessRoleArn: string;
  /** This function's own role, named in each tenant key's policy. */
  readonly provisionerRoleArn: string;
  /** The pooled KMS key, which wraps pooled tenants' data keys. */
  readonly pooledKeyArn: string;
  /** KMS acting in the tenant's own session (the pooled key serves no other caller). */
  readonly tenantKms: (tenantId: TenantId) => Pick<KMS, 'generateDataKeyWithoutPlaintext'>;
  readonly logger: Logger;
}

export type ProvisionOutcome = 'activated' | 'skipped';

/**
 * Provisions a tenant. A tenant of a pooled tier (tiers.ts) gets only its data key, wrapped by
 * the pooled KMS key: nothing that costs money, and nothing counted against a quota. A tenant
 * of a dedicated tier gets its own KMS key (key policy, tags, alias) and its API key in its
 * tier's usage plan. Then ACTIVE.
 *
 * Each resource is recorded in the registry as soon as it exists, with a write that only
 * succeeds while the tenant is PROVISIONING and nothing is recorded yet; before creating
 * anything, each step looks for what an interrupted run created (alias, tags, key name). So a
 * crash at any point followed by a retry ends with one key, one API key and one plan
 * membership, and a run that loses a race (to another run, or to offboarding) cleans up
 * what it made.
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

  if (TIERS[tenant.tier].resources === 'pooled') {
    if (!tenant.dataKey) await recordDataKey(tenant, deps);
    logger.info('Tenant data key ready', { step: 'data-key' });
    await registry.transitionTenant(tenantId, { from: ['PROVISIONING'], to: 'ACTIVE' });
    logger.info('Tenant active', { step: 'active' });
    return 'activated';
  }

  await ensureDedicatedResources(tenant, tenant.tier, deps, {
    key: (arn) => recordKey(tenant, arn, deps),
    apiKey: (key) => recordApiKey(tenant, key, deps),
  });

  await registry.transitionTenant(tenantId, { from: ['PROVISIONING'], to: 'ACTIVE' });
  logger.info('Tenant active', { step: 'active' });
  return 'activated';
}

/**
 * A dedicated tier's resources for the tenant: its own KMS key (the recorded one, or one an
 * interrupted run left, or a new one) and its alias, its API key (likewise) and that key in
 * `tier`'s usage plan. `record` writes each new one to the registry under the caller's
 * condition (provisioning, or a tier change) and answers the one to use.
 */
export async function ensureDedicatedResources(
  tenant: TenantRecord,
  tier: TierName,
  deps: Omit<ProvisionDeps, 'registry'>,
  record: {
    key: (arn: string) => Promise<string>;
    apiKey: (key: { id: string; value: string }) => Promise<{ id: string; value: string }>;
  },
): Promise<void> {
  const { tenantId } = tenant;
  const kmsKeyArn = tenant.kmsKeyArn ?? (await record.key(await findOrCreateKey(tenantId, deps)));
  await deps.kms
    .send(new CreateAliasCommand({ AliasName: tenantKeyAlias(tenantId), TargetKeyId: kmsKeyArn }))
    .catch(ignore('AlreadyExistsException'));
  deps.logger.info('Tenant key ready', { step: 'kms-key' });

  const apiKey =
    tenant.apiKeyId && tenant.apiKeyValue
      ? { id: tenant.apiKeyId, value: tenant.apiKeyValue }
      : await record.apiKey(await findOrCreateApiKey(tenantId, deps));
  deps.logger.info('API key ready', { step: 'api-key' });

  await placeKeyInPlan(deps.apigw, apiKey.id, tier, deps.usagePlanIds);
  deps.logger.info('API key in its tier plan', { step: 'usage-plan', tier });
}

/**
 * A new wrapped data key, recorded unless another run recorded one first (then that one is
 * kept: an unrecorded wrapped key is nobody's and costs nothing).
 */
async function recordDataKey(tenant: TenantRecord, deps: ProvisionDeps): Promise<void> {
  const { tenantId } = tenant;
  const dataKey = await newPooledDataKey(deps.tenantKms(tenantId), deps.pooledKeyArn, tenantId);
  try {
    await deps.registry.recordTenantResources(
      tenantId,
      { dataKey },
      { status: 'PROVISIONING', unset: true },
    );
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const current = await deps.registry.getTenant(tenantId);
    if (!(current?.dataKey && current.status === 'PROVISIONING')) throw error;
  }
}

/** The key an interrupted run left (by alias, else by tag), or a new one. */
async function findOrCreateKey(
  tenantId: TenantId,
  deps: Omit<ProvisionDeps, 'registry'>,
): Promise<string> {
  const aliased = await describeKey(deps.kms, tenantKeyAlias(tenantId));
  // A key being retired (a tier change down that a crash interrupted) is not adopted.
  if (aliased?.Arn && aliased.KeyState === 'Enabled') return aliased.Arn;
  const [oldest, ...extra] = await findTenantKeys(tenantId, deps);
  for (const duplicate of extra) await retireKey(duplicate.Arn as string, deps);
  if (oldest?.Arn) return oldest.Arn;

  const { KeyMetadata } = await deps.kms.send(
    new CreateKeyCommand({
      Description: `Tenant ${tenantId}: envelope encryption of its data`,
      Policy: tenantKeyPolicy({
        tenantId,
        dataAccessRoleArn: deps.dataAccessRoleArn,
        provisionerRoleArn: deps.provisionerRoleArn,
      }),
      // The policy gives the account administration (including policy changes) but not this
      // role: the lockout check, which looks for the caller, would refuse it otherwise.
      BypassPolicyLockoutSafetyCheck: true,
      Tags: [
        { TagKey: TENANT_TAG_KEY, TagValue: tenantId },
        { TagKey: MANAGED_BY.key, TagValue: MANAGED_BY.value },
      ],
    }),
  );
  if (!KeyMetadata?.Arn) throw new Error('KMS returned no key');
  return KeyMetadata.Arn;
}

/** Records the key; if another key or another status got there first, retires this one. */
async function recordKey(tenant: TenantRecord, arn: string, deps: ProvisionDeps): Promise<string> {
  try {
    await deps.registry.recordTenantResources(
      tenant.tenantId,
      { kmsKeyArn: arn },
      { status: 'PROVISIONING', unset: true },
    );
    return arn;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const current = await deps.registry.getTenant(tenant.tenantId);
    if (current?.kmsKeyArn === arn) return arn;
    // Another run recorded its key first, or the tenant is being offboarded: this key is
    // nobody's, so it goes.
    await retireKey(arn, deps);
    if (current?.kmsKeyArn && current.status === 'PROVISIONING') return current.kmsKeyArn;
    throw error;
  }
}

async function retireKey(arn: string, deps: Pick<ProvisionDeps, 'kms' | 'logger'>): Promise<void> {
  deps.logger.warn('Scheduling deletion of a duplicate tenant key', { keyArn: arn });
  await deps.kms
    .send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }))
    .catch(ignore('KMSInvalidStateException'));
}

/** The API key an interrupted run left (by name), or a new one. */
async function findOrCreateApiKey(
  tenantId: TenantId,
  deps: Pick<ProvisionDeps, 'apigw' | 'logger'>,
) {
  const [oldest, ...extra] = await findApiKeys(tenantId, deps.apigw);
  for (const duplicate of extra) {
    deps.logger.warn('Deleting a duplicate tenant API key', { apiKeyId: duplicate.id });
    await deps.apigw
      .send(new DeleteApiKeyCommand({ apiKey: duplicate.id }))
      .catch(ignore('NotFoundException'))
      // A key made before keys were tagged may not be deleted by this role: leave it.
      .catch((error: Error) => {
        if (error.name !== 'AccessDeniedException') throw error;
        deps.logger.warn('Left an untagged duplicate API key', { apiKeyId: duplicate.id });
      });
  }
  if (oldest) return oldest;
  const created = await deps.apigw.send(
    new CreateApiKeyCommand({
      name: apiKeyName(tenantId),
      description: `Usage-plan key of tenant ${tenantId}`,
      enabled: true,
      // The provisioner may delete an API key only if it carries ManagedBy (see onboarding.ts).
      tags: { [TENANT_TAG_KEY]: tenantId, [MANAGED_BY.key]: MANAGED_BY.value },
    }),
  );
  if (!created.id || !created.value) throw new Error('API Gateway returned no API key');
  return { id: created.id, value: created.value };
}

async function recordApiKey(
  tenant: TenantRecord,
  key: { id: string; value: string },
  deps: ProvisionDeps,
): Promise<{ id: string; value: string }> {
  try {
    await deps.registry.recordTenantResources(
      tenant.tenantId,
      { apiKeyId: key.id, apiKeyValue: key.value },
      { status: 'PROVISIONING', unset: true },
    );
    return key;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const current = await deps.registry.getTenant(tenant.tenantId);
    if (current?.apiKeyId === key.id) return key;
    if (current?.apiKeyId && current.apiKeyValue && current.status === 'PROVISIONING') {
      await deps.apigw
        .send(new DeleteApiKeyCommand({ apiKey: key.id }))
        .catch(ignore('NotFoundException'));
      return { id: current.apiKeyId, value: current.apiKeyValue };
    }
    throw error;
  }
}
