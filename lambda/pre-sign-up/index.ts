import middy from '@middy/core';
import type { Context, PreSignUpTriggerEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/aws-clients.js';
import { readConfig, tableName } from '../shared/config.js';
import { ValidationError } from '../shared/errors.js';
import { Invitations } from '../shared/invitations.js';
import { logger, observed } from '../shared/observability.js';
import { ORGANIZATION_ATTRIBUTE, OrganizationNameSchema } from '../shared/organization.js';

const config = readConfig({ REGISTRY_TABLE_NAME: tableName() });
// Cognito gives the trigger 5 seconds: short timeouts, few attempts.
const invitations = new Invitations(
  createDocumentClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500 },
  }),
  config.REGISTRY_TABLE_NAME,
);

/**
 * Cognito pre-sign-up trigger: refuses, before any user or tenant exists, a self sign-up whose
 * organisation name is absurd (empty, too long, control characters), and a sign-up through an
 * invitation's page (its code in the client metadata) whose invitation is unknown, withdrawn,
 * expired, taken, or made for another address. Cognito shows the message to the person signing
 * up. A sign-up without a name is accepted (Managed Login may not ask for it); the tenant is
 * then named after the e-mail domain.
 */
export async function checkSignUp(
  event: PreSignUpTriggerEvent,
  deps: { invitations: Pick<Invitations, 'check'> } = { invitations },
): Promise<PreSignUpTriggerEvent> {
  if (event.triggerSource !== 'PreSignUp_SignUp') return event;
  const code = event.request.clientMetadata?.invitation;
  if (code !== undefined) {
    await deps.invitations.check(code, event.request.userAttributes.email ?? '').catch((error) => {
      logger.info('Sign-up refused: invitation not valid for this address');
      throw error;
    });
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

export const handler = middy<PreSignUpTriggerEvent, PreSignUpTriggerEvent, Error, Context>()
  .use(observed())
  .handler((event) => checkSignUp(event));
