import * as z from 'zod';
import { TIERS } from '../../../shared/fair-use/tiers.js';
import { dayOf } from '../../../shared/fair-use/usage-meter.js';
import { ValidationError } from '../../../shared/platform/errors.js';
import { defineTool, type Feature } from '../feature.js';

const Day = z.iso.date().describe('A day, yyyy-mm-dd (UTC)');
const MAX_DAYS = 92;

const usageReport = defineTool({
  name: 'usage_report',
  title: 'Usage report',
  description:
    "Shows your organisation's tool calls per day and tool (default: this month so far) and how much of the monthly tool-call budget is spent.",
  inputSchema: z.object({ from: Day.optional(), to: Day.optional() }),
  outputSchema: z.object({
    from: z.string(),
    to: z.string(),
    days: z.array(
      z.object({
        day: z.string(),
        tool: z.string(),
        calls: z.number().int(),
        errors: z.number().int(),
        averageDurationMs: z.number(),
      }),
    ),
    totals: z.object({
      calls: z.number().int(),
      errors: z.number().int(),
    }),
    budget: z.object({
      month: z.string(),
      limit: z.number().int(),
      spent: z.number().int(),
      remaining: z.number().int(),
    }),
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: async (input, scope) => {
    const today = dayOf(Date.now());
    const to = input.to ?? today;
    const from = input.from ?? `${to.slice(0, 7)}-01`;
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
    if (days < 1 || days > MAX_DAYS) {
      throw new ValidationError(
        `"from" must be on or before "to", at most ${MAX_DAYS} days apart.`,
      );
    }
    const [rows, spent] = await Promise.all([
      scope.usage.report(from, to),
      scope.usage.budgetSpent(),
    ]);
    const limit = TIERS[scope.context.tier].monthlyToolCalls;
    return {
      from,
      to,
      days: rows.map(({ totalDurationMs, ...row }) => ({
        ...row,
        averageDurationMs: row.calls ? Math.round(totalDurationMs / row.calls) : 0,
      })),
      totals: {
        calls: rows.reduce((n, r) => n + r.calls, 0),
        errors: rows.reduce((n, r) => n + r.errors, 0),
      },
      budget: {
        month: today.slice(0, 7),
        limit,
        spent,
        remaining: Math.max(0, limit - spent),
      },
    };
  },
});

/** The tenant's metered usage and monthly budget. */
export const usage: Feature = { name: 'usage', tools: [usageReport] };
