import { describe, expect, it } from 'vitest';
import { prettyLogLine } from '../../local/log-format.js';
import { printable } from '../../local/printable.js';

describe('npm run dev log lines', () => {
  it('shows a Powertools line as time, level, service, message and its fields', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'MCP request answered',
      timestamp: '2026-12-02T00:10:11.123Z',
      service: 'multi-tenant-mcp',
      tenantId: 'acme',
      status: 200,
      served: true,
    });
    expect(prettyLogLine(line)).toBe(
      '00:10:11.123 INFO  [multi-tenant-mcp] MCP request answered  tenantId=acme status=200 served=true',
    );
  });

  it('shows usage records and passes other text through', () => {
    const usage = JSON.stringify({
      record: 'mcp-usage/1',
      tenantId: 'acme',
      name: 'whoami',
      time: Date.UTC(2026, 11, 2, 0, 0, 1),
    });
    expect(prettyLogLine(usage)).toBe('00:00:01.000 USAGE tenantId=acme name=whoami');
    expect(prettyLogLine('plain text')).toBe('plain text');
  });

  it('never sends a control character to the terminal, whoever chose the string', () => {
    const hostile = JSON.stringify({
      level: 'WARN',
      message: 'x\u001b[2Jy',
      name: '\u001b]0;owned\u0007',
    });
    const shown = prettyLogLine(hostile);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may be left
    const control = /[\u0000-\u001f\u007f-\u009f]/;
    expect(shown).not.toMatch(control);
    expect(shown).toContain('x\\u001b[2Jy');
    expect(printable('a\u009bb\nc')).toBe('a\\u009bb\\u000ac');
  });

  it('shows bidirectional overrides, zero-width characters and line separators escaped', () => {
    expect(printable('evil\u202eexe.txt\u200b\u2028')).toBe('evil\\u202eexe.txt\\u200b\\u2028');
  });
});
