import middy from '@middy/core';
import type { Context, PreSignUpTriggerEvent } from 'aws-lambda';
import { SignUpCap } from '../shared/lifecycle/sign-up-cap.js';
import { SIGN_UP_PAUSED_MESSAGE } from '../shared/lifecycle/sign-up-limits.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { ValidationError } from '../shared/platform/errors.js';
import {
  emitMetric,
  errorFields,
  logger,
  METRIC,
  observed,
} from '../shared/platform/observability.js';
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
const cap = new SignUpCap(db, config.USAGE_TABLE_NAME, config.SIGN_UP_DAILY_CAP);

/**
 * Cognito pre-sign-up trigger: refuses, before any user or tenant exists, a self sign-up whose
 * organisation name is absurd (empty, too long, control characters) or that comes past the
 * day's cap on self sign-ups, and a sign-up through an invitation's page (its code in the client
 * metadata) whose invitation is unknown, withdrawn, expired, taken, or made for another address.
 * Cognito shows the message to the person signing up. A sign-up without a name is accepted
 * (Managed Login may not ask for it); the tenant is then named after the e-mail domain. Invited
 * sign-ups are not counted: each needs a valid invitation, of which a tenant makes 20 a day.
 */
export interface SignUpCheckDeps {
  readonly invitations: Pick<Invitations, 'check'>;
  readonly registry: Pick<TenantRegistry, 'getTenant'>;
  readonly cap: Pick<SignUpCap, 'take'>;
}

export async function checkSignUp(
  event: PreSignUpTriggerEvent,
  deps: SignUpCheckDeps = { invitations, registry, cap },
): Promise<PreSignUpTriggerEvent> {
  if (event.triggerSource !== 'PreSignUp_SignUp') return event;
  const code = event.request.clientMetadata?.invitation;
  if (code !== undefined) {
    await checkInvitation(code, event.request.userAttributes.email ?? '', deps);
    return event;
  }
  const name = event.request.userAttributes[ORGANIZATION_ATTRIBUTE];
  if (name !== undefined) {
    const parsed = OrganizationNameSchema.safeParse(name);
    if (!parsed.success) {
      logger.info('Sign-up refused: invalid organisation name', { length: name.length });
      throw new ValidationError(parsed.error.issues[0]?.message ?? 'Invalid organisation name.');
    }
  }
  await checkDailyCap(deps.cap);
  return event;
}

/**
 * Counts the self sign-up against the day's cap, and refuses it past the cap with a generic
 * message. If the counter cannot be reached, the sign-up goes on (fail open), with an error line
 * and a metric: the cap guards cost, not data, and an unconfirmed sign-up costs nothing (a
 * tenant is made at confirmation); WAF's per-source rule still stands in front; and refusing
 * every genuine sign-up while DynamoDB has a bad minute would hurt more than a few uncounted
 * ones. The invitation check above fails closed instead: an invitation grants membership.
 */
async function checkDailyCap(cap: Pick<SignUpCap, 'take'>): Promise<void> {
  let decision: Awaited<ReturnType<SignUpCap['take']>>;
  try {
    decision = await cap.take();
  } catch (error) {
    logger.error(
      'Sign-up let through uncounted: the daily cap could not be checked',
      errorFields(error),
    );
    emitMetric(METRIC.signUpCapUnavailable);
    return;
  }
  emitMetric(METRIC.selfSignUpsToday, decision.count);
  if (!decision.allowed) {
    logger.warn('Sign-up refused: the daily cap on self sign-ups is reached', {
      day: decision.day,
      count: decision.count,
    });
    emitMetric(METRIC.signUpCapReached);
    throw new ValidationError(SIGN_UP_PAUSED_MESSAGE);
  }
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
