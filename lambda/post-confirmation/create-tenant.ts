import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { ConflictError, ValidationError } from '../shared/errors.js';
import type { Invitations } from '../shared/invitations.js';
import { type Pseudonyms, pseudonymForLogs } from '../shared/pseudonym.js';
import { ensureOwnTenant, SignUpAttributesSchema, type SignUpDeps } from '../shared/sign-up.js';

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
 * and the offer pending and unexpired (the pre-sign-up trigger checked it too; it may have been
 * withdrawn since). If it is no longer valid, the person gets their own tenant, as any sign-up.
 */
async function acceptInvitation(
  code: string,
  attributes: { sub: string; email: string },
  deps: CreateTenantDeps,
): Promise<boolean> {
  try {
    const invitation = await deps.invitations.accept(code, attributes.email, attributes.sub);
    deps.logger.appendKeys({ tenantId: invitation.tenantId });
    try {
      await deps.registry.createMembership({
        userSub: attributes.sub,
        tenantId: invitation.tenantId,
        role: invitation.role,
        email: attributes.email,
      });
    } catch (error) {
      // A retried trigger finds its own membership: done.
      if (!(error instanceof ConflictError)) throw error;
    }
    deps.logger.info('Invitation accepted', { role: invitation.role });
    return true;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    deps.logger.warn('Invitation no longer valid at confirmation: the sign-up gets its own tenant');
    return false;
  }
}
