import type { Logger } from '@aws-lambda-powertools/logger';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import * as z from 'zod';
import { ConflictError, InternalError } from '../shared/errors.js';
import {
  defaultOrganizationName,
  ORGANIZATION_ATTRIBUTE,
  OrganizationNameSchema,
  tenantIdFor,
} from '../shared/organization.js';
import type { ProvisioningQueue } from '../shared/provisioning-queue.js';
import { type Pseudonyms, pseudonymForLogs } from '../shared/pseudonym.js';
import type { TenantRegistry } from '../shared/registry.js';

const AttributesSchema = z.looseObject({
  sub: z.string().min(1).max(128),
  email: z.string().min(3).max(254),
  [ORGANIZATION_ATTRIBUTE]: z.string().optional(),
});

export interface CreateTenantDeps {
  readonly registry: TenantRegistry;
  readonly queue: ProvisioningQueue;
  readonly logger: Logger;
  readonly pseudonyms: () => Promise<Pseudonyms>;
}

/**
 * Cognito post-confirmation trigger (5 s budget): a person who signed up on their own gets a
 * new tenant (tier `free`, status PROVISIONING) with themselves as its admin, and the tenant
 * is queued for provisioning. Cognito retries a failed trigger, so every step is idempotent:
 * the tenant id derives from the user, and writes are conditional.
 *
 * A user who already has a membership (invited into a tenant) creates nothing.
 */
export async function createTenantOnSignUp(
  event: PostConfirmationTriggerEvent,
  { registry, queue, logger, pseudonyms }: CreateTenantDeps,
): Promise<PostConfirmationTriggerEvent> {
  if (event.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
  const attributes = AttributesSchema.parse(event.request.userAttributes);
  const { sub, email } = attributes;
  logger.appendKeys({ user: await pseudonymForLogs(pseudonyms, sub, logger) });

  const existing = await registry.getMembership(sub);
  if (existing) {
    // A retry after a crash, or an invited user: finish the owner's provisioning request.
    const tenant = await registry.getTenant(existing.tenantId);
    if (tenant?.status === 'PROVISIONING' && tenant.ownerSub === sub) {
      await queue.request(tenant.tenantId);
    }
    logger.info('Confirmed user already has a tenant', { tenantId: existing.tenantId });
    return event;
  }

  const given = OrganizationNameSchema.safeParse(attributes[ORGANIZATION_ATTRIBUTE]);
  const name = given.success ? given.data : defaultOrganizationName(email);
  const tenantId = tenantIdFor(name, sub);
  logger.appendKeys({ tenantId });

  try {
    await registry.createTenant({
      tenantId,
      name,
      tier: 'free',
      status: 'PROVISIONING',
      ownerSub: sub,
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const tenant = await registry.getTenant(tenantId);
    if (tenant?.ownerSub !== sub) throw new InternalError(`tenant id ${tenantId} is taken`);
  }
  try {
    await registry.createMembership({ userSub: sub, tenantId, role: 'admin', email });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
  await queue.request(tenantId);
  logger.info('Tenant created for a new sign-up; provisioning requested');
  return event;
}
