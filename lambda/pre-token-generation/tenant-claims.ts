import type { Logger } from '@aws-lambda-powertools/logger';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import * as z from 'zod';
import { AppError, ForbiddenError } from '../shared/errors.js';
import { errorFields } from '../shared/observability.js';
import { type Pseudonyms, pseudonymForLogs } from '../shared/pseudonym.js';
import type { TenantRegistry } from '../shared/registry.js';
import { TENANT_CLAIMS } from '../shared/tenant.js';

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
    userAttributes: z.looseObject({ sub: z.string().min(1).max(128) }),
  }),
});

export interface TenantClaimsDeps {
  readonly registry: TenantRegistry;
  readonly logger: Logger;
  readonly pseudonyms: () => Promise<Pseudonyms>;
}

/**
 * Adds the user's tenant, tier and role to both the access and the ID token, read from the
 * registry (never from a user attribute). Throws, so Cognito issues no token, for a malformed
 * event, a user with no tenant, or a tenant that is not ACTIVE.
 */
export async function addTenantClaims(
  event: PreTokenGenerationV2TriggerEvent,
  { registry, logger, pseudonyms }: TenantClaimsDeps,
): Promise<PreTokenGenerationV2TriggerEvent> {
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
    const membership = await registry.getMembership(sub);
    if (!membership) {
      logger.warn('Refusing token: user belongs to no tenant');
      throw new ForbiddenError(REFUSALS.noTenant);
    }
    logger.appendKeys({ tenantId: membership.tenantId });

    const tenant = await registry.getTenant(membership.tenantId);
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
