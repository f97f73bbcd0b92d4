import { describe, expect, it } from 'vitest';
import { UsagePlanLimits } from '../../local/usage-plan-limits.js';

const plan = { throttle: { rateLimit: 5, burstLimit: 10 }, quota: { limit: 30, period: 'DAY' } };

describe("the local gateway's usage-plan limits", () => {
  it('lets a burst through, then the steady rate, per API key', () => {
    let now = Date.UTC(2026, 10, 27, 10);
    const limits = new UsagePlanLimits(() => now);

    const burst = Array.from({ length: 12 }, () => limits.admit('key-a', plan));
    const otherKey = limits.admit('key-b', plan);
    now += 1000;
    const afterOneSecond = Array.from({ length: 6 }, () => limits.admit('key-a', plan));

    expect(burst.filter((v) => v === 'allowed')).toHaveLength(10);
    expect(burst.slice(10)).toEqual(['THROTTLED', 'THROTTLED']);
    expect(otherKey).toBe('allowed');
    expect(afterOneSecond.filter((v) => v === 'allowed')).toHaveLength(5);
  });

  it('refuses past the quota until the next period, and does not count throttled requests', () => {
    let now = Date.UTC(2026, 10, 27, 23, 0);
    const limits = new UsagePlanLimits(() => now);
    const verdicts = [];
    for (let i = 0; i < 40; i++) {
      now += 2000; // slower than the rate: only the quota can refuse
      verdicts.push(limits.admit('key', plan));
    }
    now = Date.UTC(2026, 10, 28, 0, 0, 1);
    const nextDay = limits.admit('key', plan);

    expect(verdicts.filter((v) => v === 'allowed')).toHaveLength(30);
    expect(verdicts.slice(30).every((v) => v === 'QUOTA_EXCEEDED')).toBe(true);
    expect(nextDay).toBe('allowed');
  });

  it('counts weeks from Monday and months from the first, in UTC', () => {
    let now = Date.UTC(2026, 10, 29, 12); // a Sunday
    const limits = new UsagePlanLimits(() => now);
    const weekly = { quota: { limit: 1, period: 'WEEK' } };
    const monthly = { quota: { limit: 1, period: 'MONTH' } };
    expect([limits.admit('w', weekly), limits.admit('w', weekly)]).toEqual([
      'allowed',
      'QUOTA_EXCEEDED',
    ]);
    expect([limits.admit('m', monthly), limits.admit('m', monthly)]).toEqual([
      'allowed',
      'QUOTA_EXCEEDED',
    ]);
    now = Date.UTC(2026, 10, 30, 0, 0, 1); // Monday, still November
    expect(limits.admit('w', weekly)).toBe('allowed');
    expect(limits.admit('m', monthly)).toBe('QUOTA_EXCEEDED');
    now = Date.UTC(2026, 11, 1, 0, 0, 1);
    expect(limits.admit('m', monthly)).toBe('allowed');
  });
});
