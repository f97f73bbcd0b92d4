import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { MonthlyBudget, meteredKey } from '../../lambda/shared/fair-use/monthly-budget.js';
import { blockSize, MAX_BLOCK } from '../../lambda/shared/fair-use/reconciled-count.js';
import { UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import type { UsageRecord } from '../../lambda/shared/fair-use/usage-record.js';
import { UserRateLimit } from '../../lambda/shared/fair-use/user-rate-limit.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { clearFaults, injectFault } from '../support/stand-in.js';

// Against dynalite through the AWS stand-in, as the MCP and metering functions use them. Each
// `new` instance stands for one warm Lambda environment with its own memory.
const db = createDocumentClient();
const table = process.env.USAGE_TABLE_NAME as string;
const tenant = () => `fair-${randomUUID().slice(0, 8)}`;
const T0 = Date.UTC(2026, 10, 27, 10, 42, 5);

/** One request through an environment's per-user limit: taken, then written if due. */
async function request(
  env: UserRateLimit,
  tenantId: string,
  limit: { requests: number; windowSeconds: number },
) {
  const admission = env.take(tenantId, 'user-a', limit);
  if (admission.allowed) await env.reconcile(tenantId, 'user-a', limit, admission);
  return admission;
}

/** One call through an environment's budget: taken, then written if due. */
async function spend(env: MonthlyBudget, tenantId: string, limit: number) {
  const admission = await env.take(tenantId, limit);
  if (admission.allowed) await env.reconcile(tenantId, limit, admission);
  return admission;
}

describe('reconciled counts', () => {
  it('write one block at a time: an eighth of what is left, at most 256, at least 1', () => {
    expect(blockSize(1_000_000, 0)).toBe(MAX_BLOCK);
    expect(blockSize(60, 0)).toBe(7);
    expect(blockSize(60, 56)).toBe(1);
    expect(blockSize(60, 80)).toBe(1);
  });
});

describe('per-user rate limit', () => {
  it('trips at its number in one environment, tells when to retry, and resets with the next window', async () => {
    let now = T0;
    const env = new UserRateLimit(db, table, () => now);
    const acme = tenant();
    const limit = { requests: 5, windowSeconds: 60 };

    const first = [];
    for (let i = 0; i < 6; i++) first.push(await request(env, acme, limit));
    const colleague = env.take(acme, 'user-b', limit);
    const sameUserElsewhere = env.take(tenant(), 'user-a', limit);
    now = T0 + 55_000;
    const nextWindow = env.take(acme, 'user-a', limit);

    expect(first.slice(0, 5).every((a) => a.allowed)).toBe(true);
    expect(first[5]).toEqual({ allowed: false, retryAfterSeconds: 55 });
    expect(colleague.allowed).toBe(true);
    expect(sameUserElsewhere.allowed).toBe(true);
    expect(nextWindow.allowed).toBe(true);
  });

  it('admits at most the limit plus one block per environment when a user is spread over several', async () => {
    const acme = tenant();
    const limit = { requests: 120, windowSeconds: 60 };
    const envs = Array.from({ length: 4 }, () => new UserRateLimit(db, table, () => T0));
    let admitted = 0;
    // Round-robin, as a load balancer would spread one user's requests.
    for (let i = 0; i < 400; i++) {
      if ((await request(envs[i % envs.length] as UserRateLimit, acme, limit)).allowed) admitted++;
    }
    expect(admitted).toBeGreaterThanOrEqual(limit.requests);
    expect(admitted).toBeLessThanOrEqual(
      limit.requests + envs.length * blockSize(limit.requests, 0),
    );
  });
});

describe('monthly tool-call budget', () => {
  it.each([25, 3])(
    'admits exactly %i calls in one environment, then none until the month ends',
    async (limit) => {
      let now = T0;
      const env = new MonthlyBudget(db, table, () => now);
      const acme = tenant();
      const answers = [];
      for (let i = 0; i < 40; i++) answers.push(await spend(env, acme, limit));
      const spent = await env.spent(acme);
      const anotherEnvironment = await new MonthlyBudget(db, table, () => now).take(acme, limit);
      now = Date.UTC(2026, 11, 1, 0, 0, 1);
      const nextMonth = await env.take(acme, limit);

      expect(answers.filter((a) => a.allowed)).toHaveLength(limit);
      expect(answers[limit]).toEqual({
        allowed: false,
        retryAfterSeconds: (Date.UTC(2026, 11, 1) - T0) / 1000,
      });
      expect(spent).toBe(limit);
      expect(anotherEnvironment.allowed).toBe(false);
      expect(nextMonth.allowed).toBe(true);
    },
  );

  it('overshoots by at most one block per environment when many serve one tenant at once', async () => {
    const acme = tenant();
    const limit = 2_000;
    const envs = Array.from({ length: 5 }, () => new MonthlyBudget(db, table, () => T0));
    const admitted = await Promise.all(
      envs.map(async (env) => {
        let n = 0;
        for (let i = 0; i < 800; i++) if ((await spend(env, acme, limit)).allowed) n++;
        return n;
      }),
    );
    const total = admitted.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(limit);
    expect(total).toBeLessThanOrEqual(limit + envs.length * blockSize(limit, 0));
  });

  it('gives back a call refused before it ran, and loses at most what a recycled environment had not written', async () => {
    let now = T0;
    const acme = tenant();
    const limit = 100;
    const first = new MonthlyBudget(db, table, () => now);
    const refused = await first.take(acme, limit);
    if (refused.allowed) first.giveBack(refused);
    // Served 5 calls, wrote them 30 s later with its next call, then served 3 more and was
    // recycled before it wrote them.
    for (let i = 0; i < 5; i++) await spend(first, acme, limit);
    now += 30_000;
    for (let i = 0; i < 4; i++) await spend(first, acme, limit);
    expect(await first.spent(acme)).toBe(6);

    now += 1_000;
    const next = new MonthlyBudget(db, table, () => now);
    let admitted = 0;
    for (let i = 0; i < 2 * limit; i++) if ((await spend(next, acme, limit)).allowed) admitted++;
    // 9 served by the first, 6 of them written: the second admits the rest and the 3 lost.
    expect(admitted).toBe(limit - 6);
  });
});

describe('metering', () => {
  it('adds a delivery once, however often it is delivered, per tenant, tool and day', async () => {
    const meter = new UsageMeter(db, table);
    const acme = tenant();
    const other = tenant();
    const batch = [
      ...records(acme, 40, 'notes_get', (i) => (i < 3 ? 'error' : 'ok')),
      ...records(acme, 7, 'resources/read'),
      ...records(other, 1),
      ...records(acme, 1, 'notes_get', () => 'ok', T0 + 86_400_000),
    ];
    const applied = await Promise.all([
      meter.apply('batch-1', batch),
      meter.apply('batch-1', batch),
    ]);
    const again = await meter.apply('batch-1', batch);

    expect(applied.filter(Boolean)).toHaveLength(1);
    expect(again).toBe(false);
    expect(await meter.report(acme, '2026-11-01', '2026-11-30')).toEqual([
      { day: '2026-11-27', tool: 'notes_get', calls: 40, errors: 3, totalDurationMs: 400 },
      { day: '2026-11-27', tool: 'resources/read', calls: 7, errors: 0, totalDurationMs: 70 },
      { day: '2026-11-28', tool: 'notes_get', calls: 1, errors: 0, totalDurationMs: 10 },
    ]);
    expect(await meter.report(other, '2026-11-01', '2026-11-30')).toHaveLength(1);
    const { Item } = await db.send(
      new GetCommand({ TableName: table, Key: meteredKey(acme, '2026-11') }),
    );
    expect(Item?.metered).toBe(48);
  });
});

function records(
  tenantId: string,
  n: number,
  name = 'notes_get',
  outcome: (i: number) => 'ok' | 'error' = () => 'ok',
  time = T0,
): UsageRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    record: 'mcp-usage/1' as const,
    tenantId,
    name,
    outcome: outcome(i),
    durationMs: 10,
    time,
  }));
}

describe('metering under contention', () => {
  it('tries again a delivery DynamoDB cancelled for a conflict, and counts it once', async () => {
    const meter = new UsageMeter(db, table);
    const acme = tenant();
    await injectFault('dynamodb:TransactWriteItems', {
      times: 2,
      when: 'before',
      kind: 'conflict',
    });
    try {
      expect(await meter.apply(`conflicted-${acme}`, records(acme, 3))).toBe(true);
    } finally {
      await clearFaults();
    }
    expect(await meter.report(acme, '2026-11-01', '2026-11-30')).toEqual([
      { day: '2026-11-27', tool: 'notes_get', calls: 3, errors: 0, totalDurationMs: 30 },
    ]);
  });
});
