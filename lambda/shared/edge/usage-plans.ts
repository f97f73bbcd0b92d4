import {
  type APIGatewayClient,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
} from '@aws-sdk/client-api-gateway';
import * as z from 'zod';
import { TIER_NAMES, TIERS, type TierName } from '../fair-use/tiers.js';

/** The usage plan id of each tier, as the CDK app outputs it (`USAGE_PLAN_IDS`). */
export const UsagePlanIdsSchema = z.record(z.enum(TIER_NAMES), z.string().min(1));
export type UsagePlanIds = Record<TierName, string>;

export function parseUsagePlanIds(json: string): UsagePlanIds {
  return UsagePlanIdsSchema.parse(JSON.parse(json)) as UsagePlanIds;
}

/**
 * The value of each pooled tier's one shared API key (`POOL_API_KEYS`), in that tier's usage
 * plan: what the authorizer names for a tenant of the tier, which has no API key of its own.
 */
export const PoolApiKeysSchema = z
  .partialRecord(z.enum(TIER_NAMES), z.string().min(20).max(128))
  .refine(
    (keys) => Object.values(TIERS).every((tier) => tier.resources !== 'pooled' || keys[tier.name]),
    'every pooled tier needs its shared API key',
  );
export type PoolApiKeys = z.infer<typeof PoolApiKeysSchema>;

export function parsePoolApiKeys(json: string): PoolApiKeys {
  return PoolApiKeysSchema.parse(JSON.parse(json));
}

/**
 * Puts an API key into its tier's usage plan and into no other (a key can be in one plan per
 * stage). Idempotent: run it again after a crash and it ends in the same state.
 */
export async function placeKeyInPlan(
  apigw: APIGatewayClient,
  keyId: string,
  tier: TierName,
  plans: UsagePlanIds,
): Promise<void> {
  for (const [otherTier, planId] of Object.entries(plans)) {
    if (otherTier === tier) continue;
    await apigw
      .send(new DeleteUsagePlanKeyCommand({ usagePlanId: planId, keyId }))
      .catch(ignore('NotFoundException'));
  }
  await apigw
    .send(new CreateUsagePlanKeyCommand({ usagePlanId: plans[tier], keyId, keyType: 'API_KEY' }))
    .catch(ignore('ConflictException'));
}

/** Removes an API key from every plan (offboarding). */
export async function removeKeyFromPlans(
  apigw: APIGatewayClient,
  keyId: string,
  plans: UsagePlanIds,
) {
  for (const planId of Object.values(plans)) {
    await apigw
      .send(new DeleteUsagePlanKeyCommand({ usagePlanId: planId, keyId }))
      .catch(ignore('NotFoundException'));
  }
}

/** Swallows the named AWS error, which means the wanted state is already there. */
export function ignore(...names: string[]) {
  return (error: unknown) => {
    if (error instanceof Error && names.includes(error.name)) return undefined;
    throw error;
  };
}
