import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { type UsageRecord, UsageRecordSchema } from '../shared/fair-use/usage-record.js';

export interface UsageBatch {
  /** Names the delivery: the same log events delivered again give the same id. */
  readonly id: string;
  readonly records: UsageRecord[];
  /** Lines the filter passed that are not usage records (logged, never counted). */
  readonly rejected: number;
}

/**
 * The usage records of one CloudWatch Logs subscription delivery (base64 of gzipped JSON, one
 * log stream's events). A line is counted only if it parses as a whole usage record; a control
 * message (sent when the subscription is created) has none.
 */
export function usageBatchOf(event: CloudWatchLogsEvent): UsageBatch {
  const data = JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
  const id = createHash('sha256')
    .update(JSON.stringify([data.logGroup, data.logStream, data.logEvents.map((e) => e.id)]))
    .digest('base64url')
    .slice(0, 32);
  if (data.messageType !== 'DATA_MESSAGE') return { id, records: [], rejected: 0 };
  const records: UsageRecord[] = [];
  let rejected = 0;
  for (const logEvent of data.logEvents) {
    const parsed = UsageRecordSchema.safeParse(parseJson(logEvent.message));
    if (parsed.success) records.push(parsed.data);
    else rejected += 1;
  }
  return { id, records, rejected };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
