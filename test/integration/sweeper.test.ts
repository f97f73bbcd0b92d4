import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { requeueStaleTenants } from '../../lambda/provisioning-sweeper/sweep.js';
import { ProvisioningQueue } from '../../lambda/shared/lifecycle/provisioning-queue.js';
import { logger } from '../../lambda/shared/platform/observability.js';
import { waitForStatus } from '../../local/seed.js';
import { localRegistry, putTenantItem, uniqueTenantId } from '../support/registry.js';

const registry = localRegistry();
const queue = () =>
  new ProvisioningQueue(new SQSClient({}), process.env.PROVISIONING_QUEUE_URL as string);

/** A tenant written by a post-confirmation that crashed before queueing it, `ageMs` ago. */
async function strandedTenant(prefix: string, ageMs: number): Promise<string> {
  const tenantId = uniqueTenantId(prefix);
  await putTenantItem({
    tenantId,
    name: prefix,
    tier: 'free',
    status: 'PROVISIONING',
    createdAt: new Date(Date.now() - ageMs).toISOString(),
  });
  return tenantId;
}

describe('provisioning sweeper', () => {
  it('queues a tenant stuck in PROVISIONING again, which then becomes active', async () => {
    const stuck = await strandedTenant('stuck', 60 * 60_000);

    const requeued = await requeueStaleTenants({ registry, queue: queue(), logger }, 15 * 60_000);

    expect(requeued).toContain(stuck);
    await waitForStatus(registry, stuck, 'ACTIVE');
  });

  it('leaves a tenant alone while its provisioning may still be under way', async () => {
    const fresh = await strandedTenant('fresh', 60_000);

    const requeued = await requeueStaleTenants({ registry, queue: queue(), logger }, 15 * 60_000);

    expect(requeued).not.toContain(fresh);
    expect((await registry.getTenant(fresh))?.status).toBe('PROVISIONING');
  });
});
