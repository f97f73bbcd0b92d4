import { describe, expect, it } from 'vitest';
import { FEATURES } from '../../../lambda/mcp/features/index.js';
import { TIER_NAMES } from '../../../lambda/shared/fair-use/tiers.js';

describe('the feature list', () => {
  const parts = FEATURES.flatMap((feature) => [
    ...feature.tools,
    ...(feature.resources ?? []),
    ...(feature.prompts ?? []),
  ]);

  it('names every tool once, within the MCP tool-name rules', () => {
    const tools = FEATURES.flatMap((feature) => feature.tools.map((tool) => tool.name));
    expect(new Set(tools).size).toBe(tools.length);
    for (const name of tools) expect(name).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
  });

  it('names features, resources, prompts and collections once each, with real tiers', () => {
    const unique = (names: string[]) => expect(new Set(names).size).toBe(names.length);
    unique(FEATURES.map((feature) => feature.name));
    unique(FEATURES.flatMap((feature) => (feature.resources ?? []).map((r) => r.name)));
    unique(FEATURES.flatMap((feature) => (feature.prompts ?? []).map((p) => p.name)));
    unique(FEATURES.flatMap((feature) => (feature.collections ?? []).map((c) => c.prefix)));
    for (const part of parts) if (part.minTier) expect(TIER_NAMES).toContain(part.minTier);
  });
});
