import { describe, expect, it } from 'vitest';
import { dayOf, UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { accessToken, callTool, connect, seedTenant, toolOutput } from '../support/mcp.js';
import { clearFaults, injectFault, meteringSettled } from '../support/stand-in.js';

// The MCP function answers 504 at its deadline (25 s, below API Gateway's 29 s) and stops the
// work there: an AWS call not yet made is never made, and nothing of the timed-out invocation
// reaches the next one.
const DEADLINE_MS = 25_000;
const SLOW_MS = 32_000;

describe('the deadline stops the work, not only the wait', () => {
  it('answers 504, writes nothing after it, and serves the next tenant untouched', async () => {
    const slow = await seedTenant('deadline-slow');
    const next = await seedTenant('deadline-next');
    const slowToken = await accessToken(slow);
    const nextToken = await accessToken(next);
    // The slow tenant's first data key comes 32 s late: notes_create is stuck before its write.
    await injectFault('kms:GenerateDataKey', {
      times: 1,
      when: 'before',
      kind: 'slow',
      delayMs: SLOW_MS,
    });
    try {
      const started = Date.now();
      const { reply } = await callTool(slowToken, 'notes_create', {
        title: 'late',
        body: 'must never be stored',
      });
      const answeredAfter = Date.now() - started;

      expect(reply.status).toBe(504);
      expect(reply.json()).toMatchObject({
        error: { message: 'The server took too long to answer.' },
      });
      expect(answeredAfter).toBeGreaterThanOrEqual(DEADLINE_MS - 500);
      expect(answeredAfter).toBeLessThan(SLOW_MS);

      // Another tenant's invocation right after is served, with its own data only.
      const served = await callTool(nextToken, 'notes_create', { title: 'on time', body: 'b' });
      expect(served.result?.isError).toBeFalsy();

      // Once the late data key has come back, still nothing of the slow call has landed.
      await new Promise((resolve) => setTimeout(resolve, started + SLOW_MS + 1_000 - Date.now()));
      for (const [user, titles] of [
        [slowToken, []],
        [nextToken, ['on time']],
      ] as const) {
        const client = await connect(user, 'modern');
        const listed = toolOutput(await client.callTool({ name: 'notes_list', arguments: {} }));
        await client.close();
        expect((listed.notes as Array<{ title: string }>).map((n) => n.title)).toEqual(titles);
      }
      // The timed-out call had begun its work: it is metered once, as an error.
      await meteringSettled();
      const today = dayOf(Date.now());
      const rows = await new UsageMeter(
        createDocumentClient(),
        process.env.USAGE_TABLE_NAME as string,
      ).report(slow.tenantId, today, today);
      expect(rows.find((row) => row.tool === 'notes_create')).toMatchObject({
        calls: 1,
        errors: 1,
      });
    } finally {
      await clearFaults();
    }
  }, 60_000);
});
