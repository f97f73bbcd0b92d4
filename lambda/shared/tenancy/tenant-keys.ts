import { TIERS } from '../fair-use/tiers.js';
import type { TenantRecord } from '../registry/registry.js';
import type { TenantKeys } from './crypto.js';

/**
 * The keys a tenant's requests seal and open its fields with, from its registry record: every
 * key it has (both while a tier change re-seals), sealing with the kind its tier uses, or, once
 * a change reaches its `sealing` step, the kind the new tier uses. Undefined when the key to
 * seal with is missing (provisioning incomplete): such a tenant is not served.
 */
export function tenantKeysOf(tenant: TenantRecord): TenantKeys | undefined {
  const { migration } = tenant;
  const tier = migration && migration.step !== 'resources' ? migration.to : tenant.tier;
  // A free tenant made before the pooled tier has its own key and no data key: it goes on
  // sealing under its own key until a tier change gives it a data key.
  const legacy = !tenant.dataKey && tenant.kmsKeyArn !== undefined;
  const sealWith = TIERS[tier].resources === 'dedicated' || legacy ? 'own' : 'pooled';
  const keys: TenantKeys = {
    sealWith,
    ...(tenant.kmsKeyArn ? { kmsKeyArn: tenant.kmsKeyArn } : {}),
    ...(tenant.dataKey ? { dataKey: tenant.dataKey } : {}),
  };
  return (sealWith === 'own' ? keys.kmsKeyArn : keys.dataKey) ? keys : undefined;
}
