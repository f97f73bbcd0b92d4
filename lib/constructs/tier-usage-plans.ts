import { Period, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { TIERS, type TierName } from '../../lambda/shared/fair-use/tiers.js';

/**
 * One usage plan per tier on the API's stage, with the tier's rate, burst and quota
 * (lambda/shared/fair-use/tiers.ts); the provisioner puts each tenant's own API key in its
 * tier's plan, so every tenant is throttled on its own. Returns each tier's plan id.
 */
export function addTierUsagePlans(api: RestApi): Readonly<Record<TierName, string>> {
  const ids: Partial<Record<TierName, string>> = {};
  for (const tier of Object.values(TIERS)) {
    const plan = api.addUsagePlan(`UsagePlan-${tier.name}`, {
      description: `Tier ${tier.name}: per-tenant limits`,
      throttle: { rateLimit: tier.throttle.rateLimit, burstLimit: tier.throttle.burstLimit },
      quota: { limit: tier.quota.limit, period: Period[tier.quota.period] },
      apiStages: [{ api, stage: api.deploymentStage }],
    });
    ids[tier.name] = plan.usagePlanId;
  }
  return ids as Record<TierName, string>;
}
