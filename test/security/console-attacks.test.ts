import { beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../support/audit.js';
import {
  accessToken,
  addMember,
  callTool,
  harness,
  mcpUrl,
  postMcp,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';

/**
 * The audit trail and the console's API (the MCP endpoint, called cross-origin from the
 * console), attacked from another tenant's side, from a member's, and from another origin.
 */
const CALL = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'audit_report', arguments: {} },
};
const HEADERS = { 'mcp-protocol-version': '2025-06-18' };

describe('attacks on the audit trail and the console API', () => {
  let acme: TestUser;
  let globex: TestUser;
  let acmeToken: string;
  let globexToken: string;
  beforeAll(async () => {
    [acme, globex] = await Promise.all([
      seedTenant('trail-acme', { tier: 'premium' }),
      seedTenant('trail-globex', { tier: 'premium' }),
    ]);
    [acmeToken, globexToken] = await Promise.all([accessToken(acme), accessToken(globex)]);
    // Enough records on both sides that a page ends with a cursor.
    for (let i = 0; i < 4; i++) {
      await callTool(acmeToken, 'whoami', {});
      await callTool(globexToken, 'whoami', {});
    }
    await auditRecords(acme.tenantId);
  });

  const report = async (token: string, args: Record<string, unknown>) =>
    toolOutput((await callTool(token, 'audit_report', args)).result) as {
      records?: Array<{ requestId?: string; action: string }>;
      nextCursor?: string;
      error?: string;
    };

  it("refuses another tenant's cursor, and shows nothing of that tenant", async () => {
    const globexPage = await report(globexToken, { limit: 1 });
    expect(globexPage.nextCursor).toBeDefined();
    const stolen = await report(acmeToken, { cursor: globexPage.nextCursor });
    expect(stolen).toEqual({ error: 'Invalid cursor.' });
    // A cursor edited to name acme but continue inside globex's keys still reads acme only.
    const decoded = JSON.parse(
      Buffer.from(globexPage.nextCursor as string, 'base64url').toString('utf8'),
    ) as { v: number; t: string; k: string };
    const forged = Buffer.from(JSON.stringify({ ...decoded, t: acme.tenantId })).toString(
      'base64url',
    );
    // An edited cursor whose key is not a record's, or outside the range asked for: refused.
    for (const k of ['garbage', '9999-01-01T00:00:00.000Z#1']) {
      const edited = Buffer.from(JSON.stringify({ v: 1, t: acme.tenantId, k })).toString(
        'base64url',
      );
      expect(
        await report(acmeToken, {
          cursor: edited,
          to: '2100-01-01T00:00:00Z',
          from: '2000-01-01T00:00:00Z',
        }),
      ).toEqual({ error: 'Invalid cursor.' });
    }
    const page = await report(acmeToken, { cursor: forged });
    const globexIds = new Set((await auditRecords(globex.tenantId)).map((r) => r.requestId));
    for (const record of page.records ?? []) expect(globexIds.has(record.requestId)).toBe(false);
  });

  it('ignores a tenant named in the arguments: each admin reads its own trail only', async () => {
    const page = await report(acmeToken, { tenantId: globex.tenantId, limit: 100 });
    const acmeIds = new Set((await auditRecords(acme.tenantId)).map((r) => r.requestId));
    const globexIds = new Set((await auditRecords(globex.tenantId)).map((r) => r.requestId));
    expect(page.records?.length).toBeGreaterThan(0);
    for (const record of page.records ?? []) {
      expect(acmeIds.has(record.requestId)).toBe(true);
      expect(globexIds.has(record.requestId)).toBe(false);
    }
  });

  it('hides the trail and every admin tool from a member, who gets "not found" for each', async () => {
    const member = await addMember(acme.tenantId, 'member');
    const token = await accessToken(member);
    for (const tool of [
      'audit_report',
      'tenant_users_list',
      'tenant_users_invite',
      'tenant_users_set_role',
      'tenant_users_remove',
      'agents_create',
      'integrations_set',
    ]) {
      const { reply } = await callTool(token, tool, {});
      expect(reply.text).toContain(`Tool ${tool} not found`);
    }
  });

  it('answers a call without a token 401, readable by the console and by no other origin', async () => {
    const reply = await postMcp(CALL, { ...HEADERS, origin: 'https://evil.example' });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('access-control-allow-origin')).toBe(harness().consoleUrl);
    expect(reply.text).not.toContain('audit');
  });

  it("gives a page of another origin nothing: its Origin is refused, and the answer names only the console's", async () => {
    const reply = await postMcp(CALL, {
      ...HEADERS,
      authorization: `Bearer ${acmeToken}`,
      origin: 'https://evil.example',
    });
    expect(reply.status).toBe(403);
    expect(reply.headers.get('access-control-allow-origin')).toBe(harness().consoleUrl);
    expect(reply.text).not.toContain('records');
  });

  it("answers the preflight with the console's origin only, whoever asks", async () => {
    for (const origin of [harness().consoleUrl, 'https://evil.example']) {
      const preflight = await fetch(mcpUrl(), {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(harness().consoleUrl);
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('refuses the requests a cross-site form can send (no token rides along: no cookie authenticates)', async () => {
    // What an attacker's page can make a browser send without a preflight: a form post.
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'jsonrpc=2.0&method=tools/call'],
      ['text/plain', JSON.stringify(CALL)],
    ] as const) {
      const response = await fetch(mcpUrl(), {
        method: 'POST',
        headers: { 'content-type': type, origin: 'https://evil.example', cookie: 'session=1' },
        body,
      });
      expect(response.status).toBe(401);
    }
  });

  it("serves the token's tenant only, whatever tenant a header or _meta names", async () => {
    const reply = await postMcp(
      {
        ...CALL,
        params: { ...CALL.params, _meta: { tenantId: globex.tenantId } },
      },
      {
        ...HEADERS,
        authorization: `Bearer ${acmeToken}`,
        'x-tenant-id': globex.tenantId,
        origin: harness().consoleUrl,
      },
    );
    expect(reply.status).toBe(200);
    const records = (reply.json() as { result: { structuredContent: { records: unknown[] } } })
      .result.structuredContent.records as Array<{ requestId: string }>;
    const globexIds = new Set((await auditRecords(globex.tenantId)).map((r) => r.requestId));
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(globexIds.has(record.requestId)).toBe(false);
  });
});
