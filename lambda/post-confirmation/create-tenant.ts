import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { type Pseudonyms, pseudonymForLogs } from '../shared/pseudonym.js';
import { ensureOwnTenant, SignUpAttributesSchema, type SignUpDeps } from '../shared/sign-up.js';

export interface CreateTenantDeps extends SignUpDeps {
  readonly pseudonyms: () => Promise<Pseudonyms>;
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
  await ensureOwnTenant(attributes, deps);
  return event;
}
