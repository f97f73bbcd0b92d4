import type { Logger } from '@aws-lambda-powertools/logger';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import * as z from 'zod';
import type { ProvisioningQueue } from '../shared/lifecycle/provisioning-queue.js';
import { createOwnTenant, SignUpAttributesSchema } from '../shared/lifecycle/sign-up.js';
import { AppError, ForbiddenError } from '../shared/platform/errors.js';
import { errorFields } from '../shared/platform/observability.js';
import { type Pseudonyms, pseudonymForLogs } from '../shared/platform/pseudonym.js';
import type {
  MembershipRecord,
  TenantRecord,
  TenantRegistry,
} from '../shared/registry/registry.js';
import { TENANT_CLAIMS } from '../shared/tenancy/tenant.js';

/**
 * What Cognito shows the user when a token is refused ("PreTokenGeneration failed with error
 * <message>"). Each concerns only the user's own account, never another tenant.
 */
export const REFUSALS = {
  malformed: 'Sign-in refused.',
  noTenant: 'Your account does not belong to an organisation.',
  provisioning: 'Your organisation is still being set up. Please try again shortly.',
  inactive: 'Your organisation does not have access at the moment.',
  unavailable: 'Sign-in is temporarily unavailable. Please try again.',
} as const;

/** The parts of a V2 event this handler relies on; anything else is refused, never defaulted. */
const EventSchema = z.looseObject({
  // V3 events are V2 events that may also come from M2M grants (which carry no user: refused).
  version: z.enum(['2', '3']),
  triggerSource: z.string().startsWith('TokenGeneration_'),
  userName: z.string().min(1),
  request: z.looseObject({
    userAttributes: z.looseObject({
      sub: z.string().min(1).max(128),
      email_verified: z.string().optional(),
    }),
  }),
});

export interface TenantClaimsDeps {
  readonly registry: TenantRegistry;
  /** Where a healed sign-up's new tenant is queued for provisioning. */
  readonly queue: ProvisioningQueue;
  readonly logger: Logger;
  readonly pseudonyms: () => Promise<Pseudonyms>;
  /** What is left of the trigger's time (Lambda's `getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
  /** Longest wait for a tenant being set up, from the trigger's start. @default 3000 */
  readonly provisioningWaitMs?: number;
}

/**
 * Sign-ins a missing tenant is healed on. Not a token refresh, and not the new-password
 * challenge, which is how a person created by an invitation first signs in.
 */
const SIGN_IN_SOURCES = new Set(['TokenGeneration_HostedAuth', 'TokenGeneration_Authentication']);
/**
 * Cognito's 5 seconds include a cold start, which the Lambda clock does not count: what is
 * left for Cognito, the answer and a cold start when the wait ends.
 */
const SAFETY_MARGIN_MS = 1_500;
const POLL_MS = 200;
/** Time one more registry read may take (a slow answer, not the worst case of retries). */
const READ_ALLOWANCE_MS = 300;

/**
 * Adds the user's tenant, tier and role to both the access and the ID token, read from the
 * registry (never from a user attribute). Throws, so Cognito issues no token, for a malformed
 * event, a user with no tenant, or a tenant that is not ACTIVE.
 *
 * The first sign-in comes right after sign-up (Managed Login signs the person in as soon as
 * the confirmation code is accepted), while the provisioner is still creating the tenant's
 * keys: a PROVISIONING tenant is waited for, within the trigger's budget, so that sign-in
 * succeeds. A confirmed person with no tenant at all (their post-confirmation trigger failed
 * for good) gets their tenant created here, then waited for.
 */
export async function addTenantClaims(
  event: PreTokenGenerationV2TriggerEvent,
  deps: TenantClaimsDeps,
): Promise<PreTokenGenerationV2TriggerEvent> {
  const { registry, logger, pseudonyms } = deps;
  // One deadline for healing and waiting, taken when the trigger starts.
  const deadline =
    Date.now() + Math.min(deps.provisioningWaitMs ?? 3_000, deps.remainingMs() - SAFETY_MARGIN_MS);
  const parsed = EventSchema.safeParse(event);
  if (!parsed.success) {
    logger.error('Refusing token: unexpected pre-token event shape', {
      issues: parsed.error.issues.map(({ path, code }) => ({ path: path.join('.'), code })),
    });
    throw new ForbiddenError(REFUSALS.malformed);
  }
  const sub = parsed.data.request.userAttributes.sub;
  logger.appendKeys({
    user: await pseudonymForLogs(pseudonyms, sub, logger),
    triggerSource: parsed.data.triggerSource,
  });

  try {
    const membership = (await registry.getMembership(sub)) ?? (await healSignUp(parsed.data, deps));
    logger.appendKeys({ tenantId: membership.tenantId });

    let tenant = await registry.getTenant(membership.tenantId);
    if (tenant?.status === 'PROVISIONING') {
      tenant = await waitWhileProvisioning(tenant, deadline, deps);
    }
    if (tenant?.status !== 'ACTIVE') {
      logger.warn('Refusing token: tenant is not active', {
        tenantStatus: tenant?.status ?? 'MISSING',
      });
      throw new ForbiddenError(
        tenant?.status === 'PROVISIONING' ? REFUSALS.provisioning : REFUSALS.inactive,
      );
    }

    const claims = {
      [TENANT_CLAIMS.tenantId]: membership.tenantId,
      [TENANT_CLAIMS.tier]: tenant.tier,
      [TENANT_CLAIMS.role]: membership.role,
    };
    logger.info('Issuing tenant claims', { tier: tenant.tier, role: membership.role });
    return {
      ...event,
      response: {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: { claimsToAddOrOverride: claims },
          accessTokenGeneration: { claimsToAddOrOverride: claims },
        },
      },
    };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) throw error;
    logger.error('Refusing token: registry lookup failed', errorFields(error));
    throw new AppError(REFUSALS.unavailable, 503, { cause: error });
  }
}

/**
 * A confirmed person who signed up on their own but has no tenant: the post-confirmation
 * trigger failed after Cognito had confirmed them (Cognito confirms first and does not roll
 * back). Their tenant is created now, exactly as that trigger would have. Only on a sign-in by
 * a person with a verified address; anyone else with no membership is refused.
 */
async function healSignUp(
  event: z.infer<typeof EventSchema>,
  deps: TenantClaimsDeps,
): Promise<MembershipRecord> {
  const attributes = SignUpAttributesSchema.safeParse(event.request.userAttributes);
  if (
    !SIGN_IN_SOURCES.has(event.triggerSource) ||
    event.request.userAttributes.email_verified !== 'true' ||
    !attributes.success
  ) {
    deps.logger.warn('Refusing token: user belongs to no tenant');
    throw new ForbiddenError(REFUSALS.noTenant);
  }
  deps.logger.warn('Confirmed user has no tenant (post-confirmation failed): creating it now');
  return createOwnTenant(attributes.data, deps);
}

/** The tenant once it leaves PROVISIONING, or as it is when the trigger's budget runs out. */
async function waitWhileProvisioning(
  provisioning: TenantRecord,
  deadline: number,
  deps: TenantClaimsDeps,
): Promise<TenantRecord | undefined> {
  const started = Date.now();
  let tenant: TenantRecord | undefined = provisioning;
  // Another read only if it can still be answered before the deadline.
  while (tenant?.status === 'PROVISIONING' && Date.now() + POLL_MS + READ_ALLOWANCE_MS < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    tenant = await deps.registry.getTenant(provisioning.tenantId);
  }
  deps.logger.info('Waited for the tenant to be provisioned', {
    waitedMs: Date.now() - started,
    tenantStatus: tenant?.status ?? 'MISSING',
  });
  return tenant;
}
