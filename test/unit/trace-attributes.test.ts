import { afterEach, describe, expect, it, vi } from 'vitest';
import { annotateTrace, tracer } from '../../lambda/shared/platform/observability.js';

afterEach(() => vi.restoreAllMocks());

describe('trace attributes', () => {
  it('puts the MCP attributes on the segment under their names, and as X-Ray-safe annotations', () => {
    const annotations = vi.spyOn(tracer, 'putAnnotation').mockImplementation(() => undefined);
    const metadata = vi.spyOn(tracer, 'putMetadata').mockImplementation(() => undefined);

    annotateTrace({
      'tenant.id': 'acme',
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'notes_get',
      'mcp.protocol.version': '2026-07-28',
      'gen_ai.unused': undefined,
    });

    expect(annotations.mock.calls).toEqual([
      ['tenant_id', 'acme'],
      ['mcp_method_name', 'tools/call'],
      ['gen_ai_tool_name', 'notes_get'],
      ['mcp_protocol_version', '2026-07-28'],
    ]);
    expect(metadata.mock.calls.map(([name]) => name)).toEqual([
      'tenant.id',
      'mcp.method.name',
      'gen_ai.tool.name',
      'mcp.protocol.version',
    ]);
  });
});
