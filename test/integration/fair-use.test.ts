import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambda/shared/aws-clients.js';
import { MonthlyBudget } from '../../lambda/shared/fair-use/monthly-budget.js';
import { UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import { UserRateLimit } from '../../lambda/shared/fair-use/user-rate-limit.js';

// Against dynalite through the AWS stand-in, as the MCP handler uses them.
const db = createDocumentClient();
const table = process.env.USAGE_TABLE_NAME as string;
const tenant = () => `fair-${randomUUID().slice(0, 8)}`;
const T0 = Date.UTC(2026, 10, 27, 10, 42, 5);

describe('per-user rate limit', () => {
  it('trips at its number, tells when to retry, and resets with the next window', async () => {
    let now = T0;
    const limiter = new UserRateLimit(db, table, () => now);
    const acme = tenant();
    const limit = { requests: 5, windowSeconds: 60 };

    const first = [];
    for (let i = 0; i < 6; i++) first.push(await limiter.consume(acme, 'user-a', limit));
    const colleague = await limiter.consume(acme, 'user-b', limit);
    const sameUserElsewhere = await limiter.consume(tenant(), 'user-a', limit);
    now = T0 + 55_000;
    const nextWindow = await limiter.consume(acme, 'user-a', limit);

    expect(first.slice(0, 5).every((a) => a.allowed)).toBe(true);
    expect(first[5]).toEqual({ allowed: false, retryAfterSeconds: 55 });
    expect(colleague.allowed).toBe(true);
    expect(sameUserElsewhere.allowed).toBe(true);
    expect(nextWindow.allowed).toBe(true);
  });

  it('admits exactly the limit when requests arrive at once', async () => {
    const limiter = new UserRateLimit(db, table, () => T0);
    const acme = tenant();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        limiter.consume(acme, 'burst', { requests: 12, windowSeconds: 60 }),
      ),
    );
    expect(answers.filter((a) => a.allowed)).toHaveLength(12);
  });
});

describe('usage metering', () => {
  it('counts every call per tool and day, with outcomes and duration, under concurrency', async () => {
    let now = T0;
    const meter = new UsageMeter(db, table, () => now);
    const acme = tenant();
    const other = tenant();
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) =>
        meter.record({
          tenantId: acme,
          tool: 'notes_get',
          outcome: i < 3 ? 'error' : 'ok',
          durationMs: 10,
        }),
      ),
      ...Array.from({ length: 7 }, () =>
        meter.record({ tenantId: acme, tool: 'notes_create', outcome: 'refused', durationMs: 2 }),
      ),
      meter.record({ tenantId: other, tool: 'notes_get', outcome: 'ok', durationMs: 1 }),
    ]);
    now = T0 + 86_400_000;
    await meter.record({ tenantId: acme, tool: 'notes_get', outcome: 'ok', durationMs: 5 });

    expect(await meter.report(acme, '2026-11-01', '2026-11-30')).toEqual([
      {
        day: '2026-11-27',
        tool: 'notes_create',
        calls: 7,
        errors: 0,
        refused: 7,
        totalDurationMs: 14,
      },
      {
        day: '2026-11-27',
        tool: 'notes_get',
        calls: 40,
        errors: 3,
        refused: 0,
        totalDurationMs: 400,
      },
      { day: '2026-11-28', tool: 'notes_get', calls: 1, errors: 0, refused: 0, totalDurationMs: 5 },
    ]);
    expect(await meter.report(acme, '2026-11-28', '2026-11-28')).toHaveLength(1);
    expect(await meter.report(other, '2026-11-01', '2026-11-30')).toEqual([
      { day: '2026-11-27', tool: 'notes_get', calls: 1, errors: 0, refused: 0, totalDurationMs: 1 },
    ]);
  });
});

describe('monthly tool-call budget', () => {
  it.each([25, 3])(
    'admits exactly %i calls of many at once, then none until the month ends',
    async (limit) => {
      let now = T0;
      const budget = new MonthlyBudget(db, table, () => now);
      const acme = tenant();

      const answers = await Promise.all(
        Array.from({ length: 40 }, () => budget.spend(acme, limit)),
      );
      const after = await new MonthlyBudget(db, table, () => now).spend(acme, limit);
      const spent = await budget.spent(acme);
      now = Date.UTC(2026, 11, 1, 0, 0, 1);
      const nextMonth = await new MonthlyBudget(db, table, () => now).spend(acme, limit);

      expect(answers.filter((a) => a.allowed)).toHaveLength(limit);
      expect(after).toEqual({
        allowed: false,
        retryAfterSeconds: (Date.UTC(2026, 11, 1) - T0) / 1000,
      });
      expect(spent).toBe(limit);
      expect(nextMonth.allowed).toBe(true);
    },
  );

  it('gives back a refunded call', async () => {
    const budget = new MonthlyBudget(db, table, () => T0);
    const acme = tenant();
    const taken = await budget.spend(acme, 2);
    await budget.spend(acme, 2);
    if (!taken.allowed) throw new Error('the first call was refused');
    await budget.refund(acme, taken.month, taken.shard);
    expect(await budget.spent(acme)).toBe(1);
    expect((await new MonthlyBudget(db, table, () => T0).spend(acme, 2)).allowed).toBe(true);
  });
});
