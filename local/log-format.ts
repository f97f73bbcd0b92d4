import { printable } from './printable.js';

/**
 * How `npm run dev` shows the handlers' log lines: one readable line per JSON line (time,
 * level, message, then the fields), or the JSON itself with `--json`. Client-chosen strings can
 * reach these lines, so control characters are shown escaped, never sent to the terminal.
 */
const HIDDEN = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
]);

export function prettyLogLine(line: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return printable(line);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return printable(line);
  const entry = value as Record<string, unknown>;
  if (entry.record === 'mcp-usage/1') {
    return `${time(entry.time)} USAGE ${fields(entry, new Set(['record', 'time']))}`;
  }
  if ('_aws' in entry) {
    const metrics =
      (
        entry._aws as { CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name: string }> }> }
      ).CloudWatchMetrics?.[0]?.Metrics?.map((m) => m.Name) ?? [];
    const shown = Object.fromEntries(
      Object.entries(entry).filter(([key]) => key !== '_aws' && key !== 'service'),
    );
    return `${time(Date.now())} METRIC ${printable(metrics.join(','))} ${fields(shown, new Set())}`;
  }
  const level = typeof entry.level === 'string' ? entry.level.padEnd(5) : 'LOG  ';
  const service = typeof entry.service === 'string' ? ` [${printable(entry.service)}]` : '';
  const message = typeof entry.message === 'string' ? printable(entry.message) : '';
  const rest = fields(entry, HIDDEN);
  return `${time(entry.timestamp)} ${level}${service} ${message}${rest ? `  ${rest}` : ''}`;
}

function fields(entry: Record<string, unknown>, hidden: ReadonlySet<string>): string {
  return Object.entries(entry)
    .filter(([key, value]) => !hidden.has(key) && value !== undefined)
    .map(
      ([key, value]) =>
        `${printable(key)}=${printable(typeof value === 'string' ? value : JSON.stringify(value))}`,
    )
    .join(' ');
}

function time(value: unknown): string {
  const date = new Date(
    typeof value === 'string' || typeof value === 'number' ? value : Date.now(),
  );
  return Number.isNaN(date.getTime()) ? '--:--:--.---' : date.toISOString().slice(11, 23);
}
