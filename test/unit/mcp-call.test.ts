import { describe, expect, it } from 'vitest';
import { outcomeOf, peekCall } from '../../lambda/mcp/fair-use.js';

const body = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('what the fair-use gate reads of a request and its answer', () => {
  it('takes the method, tool and id of a JSON-RPC request, and nothing from anything else', () => {
    expect(
      peekCall(body({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami' } })),
    ).toEqual({
      method: 'tools/call',
      tool: 'whoami',
      id: 7,
    });
    expect(peekCall(body('{"method":'))).toEqual({});
    expect(peekCall(body('null'))).toEqual({});
    expect(peekCall(body({ method: 42, id: { evil: true }, params: { name: ['x'] } }))).toEqual({});
  });

  it('cuts client-chosen names short before they reach a log line', () => {
    const call = peekCall(body({ method: 'm'.repeat(5000), params: { name: 't'.repeat(5000) } }));
    expect(call.method).toHaveLength(100);
    expect(call.tool).toHaveLength(100);
  });

  it('tells a served call, a tool error and a refusal apart', () => {
    const answer = (statusCode: number, value: unknown) => ({
      statusCode,
      body: JSON.stringify(value),
    });
    expect(outcomeOf(answer(200, { result: { content: [] } }))).toBe('ok');
    expect(outcomeOf(answer(200, { result: { isError: true, content: [] } }))).toBe('error');
    expect(outcomeOf(answer(200, { error: { code: -32602, message: 'x' } }))).toBe('refused');
    expect(outcomeOf(answer(429, { error: { code: -32000, message: 'x' } }))).toBe('refused');
    expect(outcomeOf({ statusCode: 200, body: 'not json' })).toBe('error');
  });
});
