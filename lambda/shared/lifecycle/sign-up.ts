import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { ConflictError, InternalError } from '../platform/errors.js';
import {
  ORGANIZATION_ATTRIBUTE,
  organizationNameFor,
  tenantIdFor,
} from '../registry/organization.js';
import type { MembershipRecord, TenantRegistry } from '../registry/registry.js';
import type { ProvisioningQueue } from './provisioning-queue.js';

/** The user attributes a self sign-up's tenant is made from (as Cognito sends them). */
export const SignUpAttributesSchema = z.looseObject({
  sub: z.string().min(1).max(128),
  email: z.string().min(3).max(254),
  [ORGANIZATION_ATTRIBUTE]: z.string().optional(),
});
type SignUpAttributes = z.infer<typeof SignUpAttributesSchema>;

export interface SignUpDeps {
  readonly registry: TenantRegistry;
  readonly queue: ProvisioningQueue;
  readonly logger: Logger;
}

/**
 * Makes sure a person who signed up on their own has a tenant: a new tenant (tier `free`,
 * status PROVISIONING) with them as its admin, queued for provisioning. Idempotent, so the
 * post-confirmation trigger, Cognito's retries of it, and the pre-token trigger healing a
 * sign-up whose post-confirmation failed all end with one tenant: the tenant id derives from
 * the user and every write is conditional.
 *
 * A person who already has a membership (invited, or a retry) creates nothing; a tenant they
 * own that is still PROVISIONING is queued again. Returns the membership.
 */
export async function ensureOwnTenant(
  attributes: SignUpAttributes,
  deps: SignUpDeps,
): Promise<MembershipRecord> {
  const { registry, queue, logger } = deps;
  const existing = await registry.getMembership(attributes.sub);
  if (existing) {
    const tenant = await registry.getTenant(existing.tenantId);
    if (tenant?.status === 'PROVISIONING' && tenant.ownerSub === attributes.sub) {
      await queue.request(tenant.tenantId);
    }
    logger.info('Confirmed user already has a tenant', { tenantId: existing.tenantId });
    return existing;
  }
  return createOwnTenant(attributes, deps);
}

/** The new tenant of a person known to have no membership (see ensureOwnTenant). */
export async function createOwnTenant(
  attributes: SignUpAttributes,
  { registry, queue, logger }: SignUpDeps,
): Promise<MembershipRecord> {
  const { sub, email } = attributes;
  const name = organizationNameFor(attributes[ORGANIZATION_ATTRIBUTE], email);
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
  const membership = await registry.getMembership(sub);
  if (!membership) throw new InternalError('the new membership cannot be read back');
  return membership;
}
