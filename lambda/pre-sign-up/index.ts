import middy from '@middy/core';
import type { Context, PreSignUpTriggerEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { ValidationError } from '../shared/platform/errors.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { INVALID_INVITATION, Invitations } from '../shared/registry/invitations.js';
import { ORGANIZATION_ATTRIBUTE, OrganizationNameSchema } from '../shared/registry/organization.js';
import { TenantRegistry } from '../shared/registry/registry.js';
import { PRE_SIGN_UP_CONFIG } from './config.js';

const config = readConfig(PRE_SIGN_UP_CONFIG);
// Cognito gives the trigger 5 seconds: short timeouts, few attempts.
const db = createDocumentClient({
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500 },
});
const invitations = new Invitations(db, config.REGISTRY_TABLE_NAME);
const registry = new TenantRegistry(db, config.REGISTRY_TABLE_NAME);

/**
 * Cognito pre-sign-up trigger: refuses, before any user or tenant exists, a self sign-up whose
 * organisation name is absurd (empty, too long, control characters), and a sign-up through an
 * invitation's page (its code in the client metadata) whose invitation is unknown, withdrawn,
 * expired, taken, or made for another address. Cognito shows the message to the person signing
 * up. A sign-up without a name is accepted (Managed Login may not ask for it); the tenant is
 * then named after the e-mail domain.
 */
export interface SignUpCheckDeps {
  readonly invitations: Pick<Invitations, 'check'>;
  readonly registry: Pick<TenantRegistry, 'getTenant'>;
}

export async function checkSignUp(
  event: PreSignUpTriggerEvent,
  deps: SignUpCheckDeps = { invitations, registry },
): Promise<PreSignUpTriggerEvent> {
  if (event.triggerSource !== 'PreSignUp_SignUp') return event;
  const code = event.request.clientMetadata?.invitation;
  if (code !== undefined) {
    await checkInvitation(code, event.request.userAttributes.email ?? '', deps);
    return event;
  }
  const name = event.request.userAttributes[ORGANIZATION_ATTRIBUTE];
  if (name === undefined) return event;
  const parsed = OrganizationNameSchema.safeParse(name);
  if (!parsed.success) {
    logger.info('Sign-up refused: invalid organisation name', { length: name.length });
    throw new ValidationError(parsed.error.issues[0]?.message ?? 'Invalid organisation name.');
  }
  return event;
}

/**
 * Refuses (ValidationError, shown to the person) an invitation that is not pending for this
 * address, or whose tenant is not active. Anything else that goes wrong is logged and answered
 * generically: Cognito shows the trigger's message on the page.
 */
async function checkInvitation(code: string, email: string, deps: SignUpCheckDeps): Promise<void> {
  try {
    const invitation = await deps.invitations.check(code, email);
    const tenant = await deps.registry.getTenant(invitation.tenantId);
    if (tenant?.status !== 'ACTIVE') throw new ValidationError(INVALID_INVITATION);
  } catch (error) {
    if (error instanceof ValidationError) {
      logger.info('Sign-up refused: invitation not valid for this address');
      throw error;
    }
    logger.error('Sign-up refused: the invitation could not be checked', errorFields(error));
    throw new ValidationError('Sign-up is unavailable at the moment. Please try again.');
  }
}

export const handler = middy<PreSignUpTriggerEvent, PreSignUpTriggerEvent, Error, Context>()
  .use(observed())
  .handler((event) => checkSignUp(event));
