import { describe, expect, it } from 'vitest';
import { FEATURES, servedTo } from '../../lambda/mcp/features/index.js';
import { getTier, TIER_NAMES, TIERS, type TierName } from '../../lambda/shared/fair-use/tiers.js';

const ordered = TIER_NAMES.map((name) => TIERS[name]);
/** Every tool the server implements, and those a tier's admins see (tools say their tier). */
const TOOL_NAMES = FEATURES.flatMap((feature) => feature.tools.map((tool) => tool.name));
const toolsOf = (tier: TierName) =>
  servedTo({ tier, role: 'admin' }).tools.map((tool) => tool.name);
const tierAllowsTool = (tier: TierName, tool: string) => toolsOf(tier).includes(tool);

describe('tenant tiers', () => {
  it('defines free, standard and premium, each under its own name', () => {
    expect(TIER_NAMES).toEqual(['free', 'standard', 'premium']);
    for (const name of TIER_NAMES) expect(TIERS[name].name).toBe(name);
  });

  it('lets each tier burst at least to its steady rate', () => {
    for (const tier of ordered) {
      expect(tier.throttle.rateLimit).toBeGreaterThan(0);
      expect(tier.throttle.burstLimit).toBeGreaterThanOrEqual(tier.throttle.rateLimit);
    }
  });

  it('gives every higher tier strictly more rate, burst and quota than the one below', () => {
    for (const [lower, higher] of ordered.slice(1).map((t, i) => [ordered[i], t] as const)) {
      expect(higher.throttle.rateLimit).toBeGreaterThan(lower?.throttle.rateLimit ?? 0);
      expect(higher.throttle.burstLimit).toBeGreaterThan(lower?.throttle.burstLimit ?? 0);
      expect(higher.quota.limit).toBeGreaterThan(lower?.quota.limit ?? 0);
    }
  });

  it("keeps one user's limit below the tenant's rate, and raises both with the tier", () => {
    for (const tier of ordered) {
      const tenantPerWindow = tier.throttle.rateLimit * tier.perUser.windowSeconds;
      expect(tier.perUser.requests).toBeGreaterThan(0);
      expect(tier.perUser.requests).toBeLessThan(tenantPerWindow);
    }
    for (const [lower, higher] of ordered.slice(1).map((t, i) => [ordered[i], t] as const)) {
      expect(higher.perUser.requests).toBeGreaterThan(lower?.perUser.requests ?? 0);
      expect(higher.monthlyToolCalls).toBeGreaterThan(lower?.monthlyToolCalls ?? 0);
    }
  });

  it('never takes a tool away from a higher tier', () => {
    for (const [lower, higher] of ordered.slice(1).map((t, i) => [ordered[i], t] as const)) {
      expect(toolsOf(higher.name)).toEqual(expect.arrayContaining(toolsOf(lower?.name ?? 'free')));
    }
  });

  it('lists only tools the server knows, each once', () => {
    for (const tier of ordered) {
      expect(new Set(toolsOf(tier.name)).size).toBe(toolsOf(tier.name).length);
      for (const tool of toolsOf(tier.name)) expect(TOOL_NAMES).toContain(tool);
    }
  });

  it('answers whether a tier may use a tool, refusing unknown tools', () => {
    expect(tierAllowsTool('standard', 'notes_search')).toBe(true);
    expect(tierAllowsTool('free', 'notes_search')).toBe(false);
    expect(tierAllowsTool('premium', 'rm_rf')).toBe(false);
  });

  it('refuses an unknown tier name instead of falling back to a tier', () => {
    expect(() => getTier('enterprise')).toThrow(/Unknown tier "enterprise"/);
    expect(() => getTier('__proto__')).toThrow(/Unknown tier/);
    expect(getTier('premium')).toBe(TIERS.premium);
  });
});
