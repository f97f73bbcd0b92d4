import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  framedLine,
  GATEWAY_LOG_STREAM,
  newLogStreamName,
  unframedLine,
} from '../../local/log-streams.js';
import { LogGroupStandIn, LogsStandIn } from '../../local/stand-ins/logs.js';

const usage = (tenantId: string) => JSON.stringify({ record: 'mcp-usage/1', tenantId });
const decoded = (data: string) => JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString());

describe('log streams of the local execution environments', () => {
  it('carries a line of an environment with its stream through the gateway output, unchanged', () => {
    const stream = newLogStreamName(new Date('2026-07-28T10:00:00Z'));
    const line = usage('acme');

    expect(stream).toMatch(/^2026\/07\/28\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(unframedLine(framedLine(stream, line))).toEqual({ logStream: stream, message: line });
  });

  it("files a line the gateway printed itself under the gateway's stream", () => {
    expect(unframedLine(usage('acme'))).toEqual({
      logStream: GATEWAY_LOG_STREAM,
      message: usage('acme'),
    });
    expect(unframedLine('\u001eno end')).toEqual({
      logStream: GATEWAY_LOG_STREAM,
      message: '\u001eno end',
    });
  });

  it('names every environment differently', () => {
    const names = new Set(Array.from({ length: 50 }, () => newLogStreamName()));
    expect(names.size).toBe(50);
  });
});

describe('CloudWatch Logs subscription stand-in', () => {
  it("delivers one stream's events at a time, each delivery naming its stream", () => {
    const logs = new LogsStandIn('{ $.record = "mcp-usage/1" }', {
      logGroup: '/aws/lambda/local-mcp',
      filterName: 'UsageRecords',
      batchWindowMs: 0,
    });
    logs.put(
      [
        { logStream: 'env-a', message: usage('acme') },
        { logStream: 'env-b', message: usage('globex') },
        { logStream: 'env-a', message: 'not a record' },
        { logStream: 'env-a', message: usage('acme') },
      ],
      1_000,
    );

    const first = decoded(logs.next(2_000)?.event.awslogs.data as string);
    const second = decoded(logs.next(2_000)?.event.awslogs.data as string);

    expect(first.logStream).toBe('env-a');
    expect(first.logEvents.map((e: { message: string }) => JSON.parse(e.message).tenantId)).toEqual(
      ['acme', 'acme'],
    );
    expect(second.logStream).toBe('env-b');
    expect(second.logEvents).toHaveLength(1);
    expect(logs.next(2_000)).toBeUndefined();
  });
});

describe('FilterLogEvents of the local log group', () => {
  const group = new LogGroupStandIn('/aws/lambda/local-mcp');
  group.put(
    [
      { logStream: 'env-a', message: usage('acme') },
      { logStream: 'env-b', message: usage('globex') },
      { logStream: 'env-a', message: usage('acme') },
      { logStream: GATEWAY_LOG_STREAM, message: 'plain text' },
    ],
    1_000,
  );
  const filter = (input: Record<string, unknown>) => {
    const answer = group.filter(input);
    return { status: answer.status, body: JSON.parse(answer.body) };
  };

  it('finds the streams, that is the environments, whose lines name a tenant', () => {
    const { body } = filter({ filterPattern: '{ $.tenantId = "acme" }' });

    expect(body.events.map((e: { logStreamName: string }) => e.logStreamName)).toEqual([
      'env-a',
      'env-a',
    ]);
    expect(body.searchedLogStreams).toEqual([{ logStreamName: 'env-a', searchedCompletely: true }]);
  });

  it("reads one stream's events, oldest first, in pages", () => {
    const first = filter({ logStreamNames: ['env-a'], limit: 1 }).body;
    const second = filter({ logStreamNames: ['env-a'], limit: 1, nextToken: first.nextToken }).body;

    expect(first.events).toHaveLength(1);
    expect(second.events).toHaveLength(1);
    expect(second.nextToken).toBeUndefined();
    expect(first.events[0].eventId).not.toBe(second.events[0].eventId);
  });

  it('refuses a filter pattern it cannot match exactly, rather than match it loosely', () => {
    const { status, body } = filter({ filterPattern: '{ $.tenantId = "acme*" }' });

    expect(status).toBe(400);
    expect(body.__type).toBe('InvalidParameterException');
  });

  it('keeps the newest events up to its capacity', () => {
    const small = new LogGroupStandIn('g', 2);
    small.put(['1', '2', '3'].map((message) => ({ logStream: 's', message })));

    expect(
      JSON.parse(small.filter({}).body).events.map((e: { message: string }) => e.message),
    ).toEqual(['2', '3']);
  });
});
