import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../lambda/mcp/http.js';
import { parseMcpBody } from '../../lambda/mcp/message.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami' } };

describe('the one parse of a request body', () => {
  it('reads a request as the SDK would, a byte-order mark and leading whitespace included', () => {
    for (const text of [
      JSON.stringify(call),
      `\uFEFF${JSON.stringify(call)}`,
      ` \n\t${JSON.stringify(call)}`,
    ]) {
      const parsed = parseMcpBody(utf8(text));
      expect(parsed).toMatchObject({
        ok: true,
        message: { kind: 'request', method: 'tools/call', tool: 'whoami', id: 7, tenantWork: true },
      });
    }
  });

  it('takes the last of repeated keys, the value JSON.parse (and so the SDK) sees', () => {
    const parsed = parseMcpBody(
      utf8(
        '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"whoami"}}',
      ),
    );
    expect(parsed).toMatchObject({ ok: true, message: { method: 'tools/call', tool: 'whoami' } });
    if (parsed.ok) expect(parsed.message.body.method).toBe('tools/call');
  });

  it.each([
    ['a batch', JSON.stringify([call, call]), 'batch'],
    ['a batch behind a byte-order mark', `\uFEFF[${JSON.stringify(call)}]`, 'batch'],
    ['a JSON string', '"tools/call"', 'not an object'],
    ['a number', '42', 'not an object'],
    ['null', 'null', 'not an object'],
    ['a response', '{"jsonrpc":"2.0","id":1,"result":{}}', 'not a request'],
    [
      'a notification calling a tool',
      '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"whoami"}}',
      'notify',
    ],
    ['JSON-RPC 1.0', '{"id":1,"method":"tools/call"}', 'not a request'],
    ['broken JSON', '{"jsonrpc":', 'not JSON'],
    ['an empty body', '', 'not JSON'],
  ])('refuses %s before anything runs', (_, text, reason) => {
    expect(parseMcpBody(utf8(text))).toMatchObject({ ok: false, reason });
  });

  it('refuses bodies that are not UTF-8 (a UTF-16 body, stray bytes)', () => {
    const utf16 = Buffer.from(`\uFEFF${JSON.stringify(call)}`, 'utf16le');
    expect(parseMcpBody(utf16)).toMatchObject({ ok: false, reason: 'not UTF-8' });
    expect(parseMcpBody(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({
      ok: false,
      reason: 'not UTF-8',
    });
  });

  it('counts only tenant work, and cuts client-chosen names short', () => {
    const work = (method: string) =>
      parseMcpBody(utf8(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} })));
    for (const method of ['tools/call', 'resources/read', 'resources/list', 'prompts/get']) {
      expect(work(method)).toMatchObject({ ok: true, message: { tenantWork: true } });
    }
    for (const method of ['tools/list', 'prompts/list', 'initialize', 'ping']) {
      expect(work(method)).toMatchObject({ ok: true, message: { tenantWork: false } });
    }
    const long = parseMcpBody(
      utf8(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'm'.repeat(5000),
          params: { name: 't'.repeat(5000) },
        }),
      ),
    );
    expect(long.ok && long.message.method).toHaveLength(100);
  });

  it('tells a served call from a tool error or a JSON-RPC error', () => {
    const answer = (statusCode: number, value: unknown) => ({
      statusCode,
      body: JSON.stringify(value),
    });
    expect(outcomeOf(answer(200, { result: { content: [] } }))).toBe('ok');
    expect(outcomeOf(answer(200, { result: { isError: true, content: [] } }))).toBe('error');
    expect(outcomeOf(answer(200, { error: { code: -32602, message: 'x' } }))).toBe('error');
    expect(outcomeOf({ statusCode: 200, body: 'not json' })).toBe('error');
  });
});
