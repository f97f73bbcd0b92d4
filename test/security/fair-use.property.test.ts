import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MonthlyBudget } from '../../lambda/shared/fair-use/monthly-budget.js';
import { blockSize } from '../../lambda/shared/fair-use/reconciled-count.js';
import { UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import type { UsageRecord } from '../../lambda/shared/fair-use/usage-record.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';

// Random interleavings of calls served or refused before they ran, spread over warm
// environments that are recycled (their memory lost) at random moments, with the metering
// deliveries split and redelivered at random: metered always equals served, and the calls
// admitted stay within the budget plus the stated bound (one block per environment).
const db = createDocumentClient();
const table = process.env.USAGE_TABLE_NAME as string;
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const LIMIT = 40;
const SLOTS = 3;
/** npm test runs a few; npm run test:security sets PROPERTY_RUNS=200. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 15);

type Step =
  | { kind: 'call'; slot: number; served: boolean }
  | { kind: 'recycle'; slot: number }
  | { kind: 'wait'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      slot: fc.nat(SLOTS - 1),
      served: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('recycle' as const), slot: fc.nat(SLOTS - 1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.nat(15_000) }) },
);

describe('fair use under recycling (property)', () => {
  it(
    `keeps metered = served and admitted ≤ budget + one block per environment (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 10, maxLength: 80 }),
          fc.array(fc.nat(9), { minLength: 1, maxLength: 6 }),
          async (steps, cuts) => {
            const tenantId = `prop-${randomUUID().slice(0, 8)}`;
            let now = T0;
            const clock = () => now;
            let environments = SLOTS;
            const slots = Array.from({ length: SLOTS }, () => new MonthlyBudget(db, table, clock));
            const records: UsageRecord[] = [];
            for (const s of steps) {
              if (s.kind === 'wait') now += s.ms;
              else if (s.kind === 'recycle') {
                slots[s.slot] = new MonthlyBudget(db, table, clock);
                environments += 1;
              } else {
                const env = slots[s.slot] as MonthlyBudget;
                const admission = await env.take(tenantId, LIMIT);
                if (!admission.allowed) continue;
                if (s.served) {
                  records.push({
                    record: 'mcp-usage/1',
                    tenantId,
                    name: 'whoami',
                    outcome: 'ok',
                    durationMs: 1,
                    time: now,
                  });
                } else env.giveBack(admission);
                await env.reconcile(tenantId, LIMIT, admission);
              }
            }

            // Deliveries: the records cut into batches, each delivered once or twice.
            const meter = new UsageMeter(db, table);
            const bounds = [
              ...new Set(cuts.map((c) => Math.floor((c / 10) * records.length))),
            ].sort((a, b) => a - b);
            let start = 0;
            for (const [i, end] of [...bounds, records.length].entries()) {
              const batch = records.slice(start, end);
              start = end;
              if (batch.length === 0) continue;
              await meter.apply(`${tenantId}-${i}`, batch);
              if (i % 2 === 0) await meter.apply(`${tenantId}-${i}`, batch);
            }
            const rows = await meter.report(tenantId, '2026-11-01', '2026-12-31');
            const metered = rows.reduce((n, row) => n + row.calls, 0);

            expect(metered).toBe(records.length);
            expect(records.length).toBeLessThanOrEqual(LIMIT + environments * blockSize(LIMIT, 0));
          },
        ),
        { numRuns: RUNS },
      );
    },
    60_000 + RUNS * 2_000,
  );
});
