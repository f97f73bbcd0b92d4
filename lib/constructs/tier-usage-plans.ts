import { Aws, Fn, Stack } from 'aws-cdk-lib';
import { ApiKey, Period, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { TIERS, type TierName, usagePlanLimits } from '../../lambda/shared/fair-use/tiers.js';

export interface TierUsagePlans {
  /** Each tier's usage plan id. */
  readonly ids: Readonly<Record<TierName, string>>;
  /** The authorizer's `POOL_API_KEYS`: each pooled tier's shared API key value (JSON). */
  readonly poolApiKeys: string;
}

/**
 * One usage plan per tier on the API's stage (lambda/shared/fair-use/tiers.ts):
 * - a dedicated tier's plan has the tier's per-tenant rate, burst and quota; the provisioner
 *   puts each of its tenants' own API keys in it, so each is throttled on its own;
 * - a pooled tier's plan has the limits of the whole tier (`pool`) and one API key, which all
 *   its tenants share (the MCP function throttles each of them). So a pooled tenant needs no
 *   API key (10,000 a Region by default, created at 5 a second), and the tier as a whole can
 *   never take more than its ceiling from the others.
 *
 * A shared key's value is made from the stack's id, so it is neither in the source nor the
 * same in two deployments. It is no secret: with the key source AUTHORIZER, API Gateway reads
 * the key from the authorizer's answer, never from the client.
 */
export function addTierUsagePlans(api: RestApi): TierUsagePlans {
  const ids: Partial<Record<TierName, string>> = {};
  const poolApiKeys: Partial<Record<TierName, string>> = {};
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  for (const tier of Object.values(TIERS)) {
    const limits = usagePlanLimits(tier);
    const plan = api.addUsagePlan(`UsagePlan-${tier.name}`, {
      description:
        tier.resources === 'pooled'
          ? `Tier ${tier.name}: the whole tier, through its one shared key`
          : `Tier ${tier.name}: per-tenant limits`,
      throttle: { rateLimit: limits.throttle.rateLimit, burstLimit: limits.throttle.burstLimit },
      ...(limits.quota
        ? { quota: { limit: limits.quota.limit, period: Period[limits.quota.period] } }
        : {}),
      apiStages: [{ api, stage: api.deploymentStage }],
    });
    ids[tier.name] = plan.usagePlanId;
    if (tier.resources === 'pooled') {
      const value = Fn.join('', [`pool-${tier.name}-`, stackUuid]);
      const key = new ApiKey(api, `PoolApiKey-${tier.name}`, {
        description: `Shared usage-plan key of the pooled tier ${tier.name}`,
        value,
        enabled: true,
      });
      plan.addApiKey(key);
      poolApiKeys[tier.name] = value;
    }
  }
  return {
    ids: ids as Record<TierName, string>,
    poolApiKeys: Stack.of(api).toJsonString(poolApiKeys),
  };
}
