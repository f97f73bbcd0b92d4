import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { TenantId } from '../tenancy/tenant.js';

/** The user attribute holding the organisation name given at sign-up (display only). */
export const ORGANIZATION_ATTRIBUTE = 'custom:organization';

/**
 * An organisation name as people type it: 1-100 characters after trimming, no control,
 * format (bidirectional, zero-width) or line and paragraph separator characters. It names a
 * tenant for people; it never decides which tenant a user is in.
 */
export const OrganizationNameSchema = z
  .string()
  .trim()
  .min(1, 'Organisation name must not be empty.')
  .max(100, 'Organisation name must be at most 100 characters.')
  .refine(
    (name) => !/\p{Cc}|\p{Cf}|\p{Zl}|\p{Zp}/u.test(name),
    'Organisation name must not contain control characters.',
  );

const SUFFIX = ' organisation';
const FALLBACK = 'My organisation';

/**
 * The name of a self sign-up's tenant, and the one place such a name is made: the name the
 * person gave if it is valid, otherwise their e-mail domain as people would guess it ("example.com
 * organisation"), otherwise "My organisation". Whatever it returns has passed
 * OrganizationNameSchema, so no name from any source carries control characters or is too long.
 * The domain part comes from an address Cognito accepted, which may hold anything: only
 * host-name characters are kept.
 */
export function organizationNameFor(given: unknown, email: string): string {
  const named = OrganizationNameSchema.safeParse(given);
  if (named.success) return named.data;
  const domain = (email.slice(email.lastIndexOf('@') + 1) || '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 100 - SUFFIX.length);
  const fromDomain = OrganizationNameSchema.safeParse(domain ? `${domain}${SUFFIX}` : FALLBACK);
  return fromDomain.success ? fromDomain.data : FALLBACK;
}

/**
 * The new tenant's id: a readable slug of its name plus a hash of the owner's `sub`, so a
 * retried sign-up confirmation derives the same id (and creates nothing twice), while two
 * organisations with the same name still get different ids.
 */
export function tenantIdFor(organizationName: string, ownerSub: string): TenantId {
  const slug = organizationName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30)
    .replace(/-+$/, '');
  const suffix = createHash('sha256').update(ownerSub).digest('hex').slice(0, 8);
  return `${slug || 'org'}-${suffix}`;
}
