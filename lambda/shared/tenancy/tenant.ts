import * as z from 'zod';
import { TIER_NAMES } from '../fair-use/tiers.js';

/**
 * A tenant id: lowercase letters, digits and inner hyphens, at most 48 characters.
 *
 * It is a DynamoDB partition key, an STS session tag value, part of the STS role session name
 * (64 characters at most, with its prefix), of a KMS alias and of a Secrets Manager path, so
 * it is kept short and to characters that are safe in all of them.
 */
export const TenantIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/, 'not a tenant id');
export type TenantId = z.infer<typeof TenantIdSchema>;

/** Only ACTIVE tenants get tokens and requests through. */
export const TENANT_STATUSES = [
  'PROVISIONING',
  'ACTIVE',
  'SUSPENDED',
  'OFFBOARDING',
  'DELETED',
] as const;
export const TenantStatusSchema = z.enum(TENANT_STATUSES);
export type TenantStatus = z.infer<typeof TenantStatusSchema>;

/** What a member may do inside their tenant. */
export const ROLES = ['admin', 'member'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const TierNameSchema = z.enum(TIER_NAMES);

/** The claims that carry the tenant in Cognito tokens, named once. */
export const TENANT_CLAIMS = {
  tenantId: 'custom:tenantId',
  tier: 'custom:tenantTier',
  role: 'custom:role',
} as const;

/** A KMS key ARN (a tenant's own key, or the pooled key). */
export const KmsKeyArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/, 'not a KMS key ARN');

/**
 * A pooled tenant's data key as KMS wrapped it (base64 of the ciphertext blob): opened only by
 * KMS, only in a session tagged with that tenant and with it as encryption context.
 */
export const WrappedDataKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{40,1400}={0,2}$/, 'not a wrapped data key');
