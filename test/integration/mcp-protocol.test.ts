import { beforeAll, describe, expect, it } from 'vitest';
import {
  accessToken,
  connect,
  postMcp,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';

const MODERN = '2026-07-28';
const envelope = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Requests a well-behaved client would not send: each gets a clean error and stores nothing. */
describe('MCP protocol edge cases', () => {
  let user: TestUser;
  let auth: Record<string, string>;
  const noteCount = async () => {
    const client = await connect(auth.authorization?.slice(7) as string, 'modern');
    const list = toolOutput(
      await client.callTool({ name: 'notes_list', arguments: { limit: 50 } }),
    );
    await client.close();
    return (list.notes as unknown[]).length;
  };
  const modern = (
    method: string,
    params: Record<string, unknown> = {},
    extra: Record<string, string> = {},
  ) =>
    postMcp(
      { jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: envelope } },
      { ...auth, 'mcp-protocol-version': MODERN, 'mcp-method': method, ...extra },
    );

  beforeAll(async () => {
    user = await seedTenant('protocol');
    auth = { authorization: `Bearer ${await accessToken(user)}` };
  });

  it('answers malformed JSON with a JSON-RPC parse error', async () => {
    const response = await postMcp('{"jsonrpc": "2.0", "id": 1, "method": ', auth);

    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: -32700 } });
  });

  it('answers an unknown method with method-not-found', async () => {
    const response = await modern('notes/drop_all');

    expect(response.json()).toMatchObject({ error: { code: -32601 } });
  });

  it('refuses a body over the size limit before parsing it', async () => {
    const huge = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'notes_create', arguments: { title: 'x', body: 'x'.repeat(300 * 1024) } },
    };

    const response = await postMcp(huge, { ...auth, 'mcp-protocol-version': '2025-06-18' });

    expect(response.status).toBe(413);
    expect(await noteCount()).toBe(0);
  });

  it('refuses invalid tool arguments with an invalid-params answer and stores nothing', async () => {
    const response = await modern(
      'tools/call',
      {
        name: 'notes_create',
        arguments: { title: '', body: 42 },
      },
      { 'mcp-name': 'notes_create' },
    );

    expect(response.status).toBe(200);
    expect(JSON.stringify(response.json())).toMatch(/-32602|Input validation error/);
    expect(await noteCount()).toBe(0);
  });

  it('ignores a tenant id smuggled into tool arguments', async () => {
    const client = await connect(auth.authorization?.slice(7) as string, 'modern');
    const result = await client.callTool({
      name: 'notes_create',
      arguments: { title: 'mine', body: 'b', tenantId: 'globex' },
    });
    const me = toolOutput(
      await client.callTool({ name: 'whoami', arguments: { tenantId: 'globex' } }),
    );
    await client.close();

    expect(result.isError).toBeFalsy();
    expect(me.tenantId).toBe(user.tenantId);
  });

  it('rejects a protocol-version header that disagrees with the body', async () => {
    const response = await postMcp(
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } },
      { ...auth, 'mcp-protocol-version': '2025-06-18', 'mcp-method': 'tools/list' },
    );

    expect(response.status).toBe(400);
  });

  it('closes subscriptions/listen at once instead of holding the Lambda open', async () => {
    const client = await connect(auth.authorization?.slice(7) as string, 'modern');

    const subscription = await client.listen({ toolsListChanged: true });

    expect(subscription.honoredFilter).toEqual({});
    expect(await subscription.closed).toBe('graceful');
    await client.close();
  });

  it('serves a modern client that sends an Mcp-Session-Id header without any session', async () => {
    const response = await modern('tools/list', {}, { 'mcp-session-id': 'someone-elses-session' });

    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ result: { tools: expect.any(Array) } });
  });

  it('refuses a JSON-RPC batch, so one request is always one call for the throttles', async () => {
    const call = { jsonrpc: '2.0', method: 'tools/list', params: {} };
    const response = await postMcp(
      [
        { ...call, id: 1 },
        { ...call, id: 2 },
      ],
      {
        ...auth,
        'mcp-protocol-version': '2025-06-18',
      },
    );

    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: -32600 } });
  });
});

describe('tools by tier and role', () => {
  it('does not offer notes_search to the free tier', async () => {
    const client = await connect(
      await accessToken(await seedTenant('freeco', { tier: 'free' })),
      'modern',
    );

    const names = (await client.listTools()).tools.map((t) => t.name);
    await client.close();

    expect(names).toContain('notes_list');
    expect(names).not.toContain('notes_search');
  });

  it('offers notes_delete to admins only, and lets an admin delete', async () => {
    const admin = await seedTenant('roles', { role: 'admin' });
    const { addMember } = await import('../support/mcp.js');
    const member = await addMember(admin.tenantId, 'member');
    const adminClient = await connect(await accessToken(admin), 'legacy');
    const memberClient = await connect(await accessToken(member), 'legacy');
    const note = toolOutput(
      await memberClient.callTool({ name: 'notes_create', arguments: { title: 't', body: 'b' } }),
    );

    const memberTools = (await memberClient.listTools()).tools.map((t) => t.name);
    const memberTry = await memberClient
      .callTool({ name: 'notes_delete', arguments: { id: note.id } })
      .catch((error: Error) => ({ isError: true, error: error.message }));
    const deleted = toolOutput(
      await adminClient.callTool({ name: 'notes_delete', arguments: { id: note.id } }),
    );
    const after = toolOutput(
      await adminClient.callTool({ name: 'notes_get', arguments: { id: note.id } }),
    );
    await Promise.all([adminClient.close(), memberClient.close()]);

    expect(memberTools).not.toContain('notes_delete');
    expect(memberTry.isError).toBe(true);
    expect(deleted).toEqual({ deleted: true, id: note.id });
    expect(after).toEqual({ error: 'Note not found.' });
  });
});
