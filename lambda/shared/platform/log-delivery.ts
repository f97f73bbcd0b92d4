import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import type * as z from 'zod';

export interface LogDelivery<Record> {
  /** Names the delivery: the same log events delivered again give the same id. */
  readonly id: string;
  /** The lines that parse as whole records, each with its log event's id (unique in the group). */
  readonly records: Array<{ readonly eventId: string; readonly record: Record }>;
  /** Lines the filter passed that are not such records (logged, never used). */
  readonly rejected: number;
}

/**
 * The records of one CloudWatch Logs subscription delivery (base64 of gzipped JSON, one log
 * stream's events): a line counts only if it parses as a whole record of `schema`. A control
 * message (sent when the subscription is created) has none.
 */
export function recordsOf<Schema extends z.ZodType>(
  event: CloudWatchLogsEvent,
  schema: Schema,
): LogDelivery<z.infer<Schema>> {
  const data = JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
  const id = createHash('sha256')
    .update(JSON.stringify([data.logGroup, data.logStream, data.logEvents.map((e) => e.id)]))
    .digest('base64url')
    .slice(0, 32);
  if (data.messageType !== 'DATA_MESSAGE') return { id, records: [], rejected: 0 };
  const records: Array<{ eventId: string; record: z.infer<Schema> }> = [];
  let rejected = 0;
  for (const logEvent of data.logEvents) {
    const parsed = schema.safeParse(parseJson(logEvent.message));
    if (parsed.success) records.push({ eventId: logEvent.id, record: parsed.data });
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
