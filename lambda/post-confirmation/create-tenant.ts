import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import {
  ensureOwnTenant,
  SignUpAttributesSchema,
  type SignUpDeps,
} from '../shared/lifecycle/sign-up.js';
import { ConflictError, ValidationError } from '../shared/platform/errors.js';
import { type Pseudonyms, pseudonymForLogs } from '../shared/platform/pseudonym.js';
import type { Invitations } from '../shared/registry/invitations.js';

export interface CreateTenantDeps extends SignUpDeps {
  readonly pseudonyms: () => Promise<Pseudonyms>;
  readonly invitations: Invitations;
}

/**
 * Cognito post-confirmation trigger (5 s budget): a person who signed up on their own gets a
 * new tenant with themselves as its admin, queued for provisioning (see ensureOwnTenant).
 * Cognito retries a failed trigger, and the pre-token trigger heals a sign-up whose trigger
 * failed for good, so every step is idempotent.
 */
export async function createTenantOnSignUp(
  event: PostConfirmationTriggerEvent,
  deps: CreateTenantDeps,
): Promise<PostConfirmationTriggerEvent> {
  if (event.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
  const attributes = SignUpAttributesSchema.parse(event.request.userAttributes);
  deps.logger.appendKeys({
    user: await pseudonymForLogs(deps.pseudonyms, attributes.sub, deps.logger),
  });
  const code = event.request.clientMetadata?.invitation;
  if (code && (await acceptInvitation(code, attributes, deps))) return event;
  await ensureOwnTenant(attributes, deps);
  return event;
}

/**
 * A sign-up through an invitation's page (its code in the sign-up's client metadata, which
 * Cognito passes to this trigger): the person joins the inviting tenant with the offered role
 * instead of getting a tenant of their own. The address they confirmed must be the invited one,
 * the offer pending and unexpired, and the tenant ACTIVE (the pre-sign-up trigger checked all
 * this too; it may have changed since). If it no longer holds, the person gets their own
 * tenant, as any sign-up.
 *
 * The membership is written first and the offer taken after: a failure in between leaves the
 * person in the tenant with the offer still pending, and Cognito's retry of this trigger
 * finishes it, so no failure can leave an accepted offer without its membership (which the
 * pre-token trigger would "heal" with a tenant of the person's own).
 */
async function acceptInvitation(
  code: string,
  attributes: { sub: string; email: string },
  deps: CreateTenantDeps,
): Promise<boolean> {
  const { registry, invitations, logger } = deps;
  let invitation: Awaited<ReturnType<Invitations['check']>>;
  try {
    invitation = await invitations.check(code, attributes.email, attributes.sub);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    logger.warn('Invitation no longer valid at confirmation: the sign-up gets its own tenant');
    return false;
  }
  const tenant = await registry.getTenant(invitation.tenantId);
  if (tenant?.status !== 'ACTIVE') {
    logger.warn('Invitation of a tenant that is not active: the sign-up gets its own tenant', {
      tenantStatus: tenant?.status ?? 'MISSING',
    });
    return false;
  }
  logger.appendKeys({ tenantId: invitation.tenantId });
  try {
    await registry.createMembership({
      userSub: attributes.sub,
      tenantId: invitation.tenantId,
      role: invitation.role,
      email: attributes.email,
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // A retried trigger finds its own membership; any other is not this invitation's.
    const existing = await registry.getMembership(attributes.sub);
    if (existing?.tenantId !== invitation.tenantId) {
      throw new ConflictError('The person already belongs to another tenant.', { cause: error });
    }
  }
  try {
    await invitations.accept(code, attributes.email, attributes.sub);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // Withdrawn or expired in the last moment: undo the membership, and the person gets their
    // own tenant instead.
    await registry.removeMembership(attributes.sub, invitation.tenantId);
    logger.warn('Invitation withdrawn while it was taken: the sign-up gets its own tenant');
    return false;
  }
  logger.info('Invitation accepted', { role: invitation.role });
  return true;
}
