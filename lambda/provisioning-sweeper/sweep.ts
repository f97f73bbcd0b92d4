import type { Logger } from '@aws-lambda-powertools/logger';
import type { ProvisioningQueue } from '../shared/lifecycle/provisioning-queue.js';
import type { TenantRegistry } from '../shared/registry/registry.js';

export interface SweepDeps {
  readonly registry: TenantRegistry;
  readonly queue: ProvisioningQueue;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/**
 * Queues again every tenant that has been PROVISIONING for longer than `staleAfterMs`: a
 * post-confirmation that crashed after writing the tenant but before queueing it, a message
 * that went to the dead-letter queue, a run lost with its Lambda. Provisioning is idempotent,
 * so queueing a tenant that is in fact still being provisioned costs one skipped run.
 */
export async function requeueStaleTenants(
  deps: SweepDeps,
  staleAfterMs: number,
): Promise<string[]> {
  const now = (deps.now ?? (() => new Date()))();
  const stale = (await deps.registry.listTenants()).filter(
    (tenant) =>
      tenant.status === 'PROVISIONING' &&
      now.getTime() - Date.parse(tenant.updatedAt) > staleAfterMs,
  );
  for (const tenant of stale) {
    await deps.queue.request(tenant.tenantId, `sweep-${now.toISOString()}`);
  }
  if (stale.length > 0) {
    deps.logger.warn('Queued stale tenants for provisioning again', {
      tenants: stale.map((t) => t.tenantId),
    });
  }
  return stale.map((t) => t.tenantId);
}
