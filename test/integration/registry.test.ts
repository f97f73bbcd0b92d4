import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { ConflictError, InternalError } from '../../lambda/shared/platform/errors.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';

const registry = localRegistry();

describe('tenant registry', () => {
  it('stores a tenant and reads it back with its status and tier', async () => {
    const tenantId = uniqueTenantId('acme');
    await registry.createTenant({ tenantId, name: 'Acme', tier: 'standard', status: 'ACTIVE' });

    expect(await registry.getTenant(tenantId)).toMatchObject({
      tenantId,
      name: 'Acme',
      tier: 'standard',
      status: 'ACTIVE',
    });
  });

  it('refuses to create a tenant id twice and keeps the first record', async () => {
    const tenantId = uniqueTenantId('acme');
    await registry.createTenant({ tenantId, name: 'First', tier: 'free', status: 'ACTIVE' });

    await expect(
      registry.createTenant({ tenantId, name: 'Second', tier: 'premium', status: 'ACTIVE' }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await registry.getTenant(tenantId)).toMatchObject({ name: 'First', tier: 'free' });
  });

  it('refuses to move a member of one tenant into another', async () => {
    const [acme, globex] = [uniqueTenantId('acme'), uniqueTenantId('globex')];
    const userSub = randomUUID();
    await registry.createMembership({ userSub, tenantId: acme, role: 'member' });

    await expect(
      registry.createMembership({ userSub, tenantId: globex, role: 'admin' }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await registry.getMembership(userSub)).toMatchObject({ tenantId: acme, role: 'member' });
  });

  it('changes a status only from an expected state', async () => {
    const tenantId = uniqueTenantId('acme');
    await registry.createTenant({ tenantId, name: 'Acme', tier: 'free', status: 'PROVISIONING' });

    await expect(
      registry.transitionTenant(tenantId, { from: ['ACTIVE'], to: 'SUSPENDED' }),
    ).rejects.toBeInstanceOf(ConflictError);
    const active = await registry.transitionTenant(tenantId, {
      from: ['PROVISIONING'],
      to: 'ACTIVE',
    });

    expect(active.status).toBe('ACTIVE');
    expect(await registry.getTenant(tenantId)).toMatchObject({ status: 'ACTIVE' });
  });

  it('does not create a tenant when asked to change the status of an unknown one', async () => {
    const tenantId = uniqueTenantId('ghost');

    await expect(
      registry.transitionTenant(tenantId, { from: ['ACTIVE'], to: 'SUSPENDED' }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await registry.getTenant(tenantId)).toBeUndefined();
  });

  it("lists a tenant's members and no member of a tenant whose id shares its prefix", async () => {
    const acme = uniqueTenantId('acme');
    const acmeEu = `${acme}-eu`;
    const [alice, bob, eve] = [randomUUID(), randomUUID(), randomUUID()];
    await registry.createMembership({ userSub: alice, tenantId: acme, role: 'admin' });
    await registry.createMembership({ userSub: bob, tenantId: acme, role: 'member' });
    await registry.createMembership({ userSub: eve, tenantId: acmeEu, role: 'admin' });

    const members = await registry.listMembers(acme);

    expect(members.map((m) => m.userSub).sort()).toEqual([alice, bob].sort());
    expect(members.every((m) => m.tenantId === acme)).toBe(true);
  });

  it('refuses a tenant item whose tenant id differs from its key', async () => {
    const [keyed, named] = [uniqueTenantId('acme'), uniqueTenantId('globex')];
    const at = new Date().toISOString();
    await createDocumentClient().send(
      new PutCommand({
        TableName: process.env.REGISTRY_TABLE_NAME,
        Item: {
          pk: `TENANT#${keyed}`,
          sk: 'TENANT',
          ...{ tenantId: named, name: 'X', tier: 'free', status: 'ACTIVE' },
          ...{ createdAt: at, updatedAt: at },
        },
      }),
    );

    await expect(registry.getTenant(keyed)).rejects.toBeInstanceOf(InternalError);
  });

  it('refuses a status change with no state to change from', async () => {
    await expect(
      registry.transitionTenant(uniqueTenantId('acme'), { from: [], to: 'ACTIVE' }),
    ).rejects.toThrow(/needs a `from` state/);
  });

  it('treats a malformed registry item as an error instead of using it', async () => {
    const tenantId = uniqueTenantId('corrupt');
    await createDocumentClient().send(
      new PutCommand({
        TableName: process.env.REGISTRY_TABLE_NAME,
        Item: { pk: `TENANT#${tenantId}`, sk: 'TENANT', tenantId, status: 'ACTIVE' },
      }),
    );

    await expect(registry.getTenant(tenantId)).rejects.toBeInstanceOf(InternalError);
  });
});
