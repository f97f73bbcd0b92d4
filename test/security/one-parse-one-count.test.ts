import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { budgetKey, monthOf } from '../../lambda/shared/fair-use/monthly-budget.js';
import { TIERS } from '../../lambda/shared/fair-use/tiers.js';
import { dayOf, UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import {
  accessToken,
  connect,
  ERAS,
  type Era,
  postMcp,
  seedTenant,
  toolOutput,
} from '../support/mcp.js';
import { meteringSettled } from '../support/stand-in.js';

// The request path reads a body once and counts what it serves (issue 15): attacks on the
// parse, in both protocol eras, and the count of every tenant-work method.
const db = createDocumentClient();
const usageTable = process.env.USAGE_TABLE_NAME as string;
const meter = new UsageMeter(db, usageTable);

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A tools/call body and the headers its era's client sends with it. */
function toolCall(
  era: Era,
  name: string,
  args: Record<string, unknown>,
  id: number | undefined = 1,
) {
  const body = {
    jsonrpc: '2.0',
    ...(id === undefined ? {} : { id }),
    method: 'tools/call',
    params: { name, arguments: args, ...(era === 'modern' ? { _meta: ENVELOPE } : {}) },
  };
  const headers: Record<string, string> =
    era === 'modern'
      ? { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name }
      : { 'mcp-protocol-version': '2025-06-18' };
  return { body, headers };
}

/** The tenant's metered calls today, by tool or method, once metering has caught up. */
async function usage(tenantId: string): Promise<Record<string, number>> {
  await meteringSettled();
  const today = dayOf(Date.now());
  const rows = await meter.report(tenantId, today, today);
  return Object.fromEntries(rows.map((row) => [row.tool, row.calls]));
}

async function noteCount(token: string, era: Era): Promise<number> {
  const client = await connect(token, era);
  const listed = toolOutput(await client.callTool({ name: 'notes_list', arguments: {} }));
  await client.close();
  return (listed.notes as unknown[]).length;
}

describe.each(ERAS)('one parse, one count (%s era)', (era) => {
  it('refuses every body that is not exactly one request before anything runs, and counts nothing', async () => {
    const tenant = await seedTenant(`parse-${era}`);
    const token = await accessToken(tenant);
    const auth = { authorization: `Bearer ${token}` };
    const create = (i: number) =>
      toolCall(era, 'notes_create', { title: `batch ${i}`, body: 'should never be stored' }, i);
    const one = create(1);
    const bom = '\uFEFF';

    const attacks: Array<[string, string | Buffer]> = [
      [
        'a batch behind a byte-order mark',
        `${bom}${JSON.stringify([1, 2, 3].map((i) => create(i).body))}`,
      ],
      ['a batch behind whitespace', ` \r\n${JSON.stringify([1, 2].map((i) => create(i).body))}`],
      ['a UTF-16 body', Buffer.from(`${bom}${JSON.stringify(one.body)}`, 'utf16le')],
      ['a JSON string', JSON.stringify(JSON.stringify(one.body))],
      ['a number', '42'],
      [
        'a notification carrying a tool call',
        JSON.stringify(create(1).body).replace('"id":1,', ''),
      ],
    ];
    for (const [what, body] of attacks) {
      const reply = await postMcp(typeof body === 'string' ? body : new Uint8Array(body), {
        ...one.headers,
        ...auth,
      });
      expect(reply.status, what).toBe(400);
      expect(reply.json(), what).toMatchObject({
        jsonrpc: '2.0',
        error: { code: expect.any(Number) },
      });
      expect(reply.text, what).not.toContain(tenant.tenantId);
    }

    expect(await noteCount(token, era)).toBe(0);
    expect(await usage(tenant.tenantId)).toEqual({ notes_list: 1 });
  });

  it('serves a byte-order-marked, padded or repeated-key request exactly once, as the SDK reads it', async () => {
    const tenant = await seedTenant(`once-${era}`);
    const auth = { authorization: `Bearer ${await accessToken(tenant)}` };
    const call = toolCall(era, 'whoami', {});
    const json = JSON.stringify(call.body);
    const repeated = json.replace(
      '"method":"tools/call"',
      '"method":"tools/list","method":"tools/call"',
    );

    for (const body of [`\uFEFF${json}`, `\n\t ${json}`, repeated]) {
      const reply = await postMcp(body, { ...call.headers, ...auth });
      expect(reply.status).toBe(200);
      expect(toolOutput((reply.json() as { result: unknown }).result)).toMatchObject({
        tenantId: tenant.tenantId,
      });
    }
    expect(await usage(tenant.tenantId)).toEqual({ whoami: 3 });
  });

  it('moves usage by exactly one for each served tenant-work method, and by none for a refusal', async () => {
    const tenant = await seedTenant(`count-${era}`);
    const token = await accessToken(tenant);
    const client = await connect(token, era);
    const created = toolOutput(
      await client.callTool({ name: 'notes_create', arguments: { title: 't', body: 'b' } }),
    );
    await client.listResources();
    await client.readResource({ uri: `note://${created.id}` });
    await client.getPrompt({ name: 'draft_note', arguments: { topic: 'counting' } });
    await client.listTools();
    await client.listPrompts();
    // Refused before they run: arguments that fail validation, a tool that does not exist.
    await client.callTool({ name: 'notes_get', arguments: { id: 42 } }).catch(() => undefined);
    await client.callTool({ name: 'no_such_tool', arguments: {} }).catch(() => undefined);
    await client.close();
    if (era === 'modern') {
      // The 2026 transport requires the Mcp-Method header: refused by the SDK, not served.
      const { body, headers } = toolCall(era, 'whoami', {});
      const { 'mcp-method': _, ...withoutMethod } = headers;
      const refused = await postMcp(body, { ...withoutMethod, authorization: `Bearer ${token}` });
      expect(refused.status).toBe(400);
    }

    expect(await usage(tenant.tenantId)).toEqual({
      notes_create: 1,
      'resources/list': 1,
      'resources/read': 1,
      'prompts/get': 1,
    });
  });

  it('spends no budget on requests refused before they run', async () => {
    const tenant = await seedTenant(`budget-${era}`, { tier: 'free' });
    await db.send(
      new PutCommand({
        TableName: usageTable,
        Item: {
          ...budgetKey(tenant.tenantId, monthOf(Date.now())),
          calls: TIERS.free.monthlyToolCalls - 1,
        },
      }),
    );
    const token = await accessToken(tenant);
    const client = await connect(token, era);
    for (let i = 0; i < 3; i++) {
      await client.callTool({ name: 'notes_get', arguments: { id: 42 } }).catch(() => undefined);
    }
    const last = await client.callTool({ name: 'whoami', arguments: {} });
    const over = await client.callTool({ name: 'whoami', arguments: {} }).then(
      () => 'served',
      (error: Error) => error.message,
    );
    await client.close();

    expect(toolOutput(last)).toMatchObject({ tenantId: tenant.tenantId });
    expect(over).toMatch(/monthly tool-call budget/);
  });
});
