import middy from '@middy/core';
import type { Context, PreSignUpTriggerEvent } from 'aws-lambda';
import { ValidationError } from '../shared/errors.js';
import { logger, observed } from '../shared/observability.js';
import { ORGANIZATION_ATTRIBUTE, OrganizationNameSchema } from '../shared/organization.js';

/**
 * Cognito pre-sign-up trigger: refuses a self sign-up whose organisation name is absurd
 * (empty, too long, control characters) before any user or tenant exists. Cognito shows the
 * message to the person signing up. A sign-up without a name is accepted (Managed Login may
 * not ask for it); the tenant is then named after the e-mail domain.
 */
export async function checkSignUp(event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> {
  if (event.triggerSource !== 'PreSignUp_SignUp') return event;
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
  .handler(checkSignUp);
