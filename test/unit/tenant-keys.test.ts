import { describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../lambda/shared/registry/registry.js';
import { tenantKeysOf } from '../../lambda/shared/tenancy/tenant-keys.js';

const OWN = 'arn:aws:kms:us-east-1:111122223333:key/own';
const WRAPPED = 'A'.repeat(120);
const at = '2026-12-02T00:00:00.000Z';
const tenant = (record: Partial<TenantRecord>): TenantRecord => ({
  tenantId: 'acme',
  name: 'Acme',
  tier: 'free',
  status: 'ACTIVE',
  createdAt: at,
  updatedAt: at,
  ...record,
});
const moving = (step: 'resources' | 'sealing' | 'retiring', from = 'free', to = 'standard') =>
  ({ id: 'm1', from, to, step, since: at }) as TenantRecord['migration'];

describe('the keys a request seals and opens with (tenantKeysOf)', () => {
  it('seals a free tenant under its wrapped data key, a paying one under its own key', () => {
    expect(tenantKeysOf(tenant({ dataKey: WRAPPED }))).toEqual({
      dataKey: WRAPPED,
      sealWith: 'pooled',
    });
    expect(tenantKeysOf(tenant({ tier: 'premium', kmsKeyArn: OWN }))).toEqual({
      kmsKeyArn: OWN,
      sealWith: 'own',
    });
  });

  it('serves nobody whose key to seal with is missing (provisioning incomplete)', () => {
    expect(tenantKeysOf(tenant({}))).toBeUndefined();
    expect(tenantKeysOf(tenant({ tier: 'standard', dataKey: WRAPPED }))).toBeUndefined();
  });

  it('keeps sealing with the old key while the new one is being made, then with the new one, opening with both', () => {
    const both = { dataKey: WRAPPED, kmsKeyArn: OWN };
    expect(tenantKeysOf(tenant({ ...both, migration: moving('resources') }))?.sealWith).toBe(
      'pooled',
    );
    for (const step of ['sealing', 'retiring'] as const) {
      expect(tenantKeysOf(tenant({ ...both, migration: moving(step) }))).toEqual({
        ...both,
        sealWith: 'own',
      });
    }
    expect(
      tenantKeysOf(
        tenant({ ...both, tier: 'standard', migration: moving('sealing', 'standard', 'free') }),
      ),
    ).toEqual({ ...both, sealWith: 'pooled' });
  });

  it('goes on sealing a free tenant made before the pooled tier under its own key', () => {
    expect(tenantKeysOf(tenant({ kmsKeyArn: OWN }))).toEqual({ kmsKeyArn: OWN, sealWith: 'own' });
  });
});
