import type { CloudWatchLogsEvent } from 'aws-lambda';
import { type UsageRecord, UsageRecordSchema } from '../shared/fair-use/usage-record.js';
import { recordsOf } from '../shared/platform/log-delivery.js';

export interface UsageBatch {
  /** Names the delivery: the same log events delivered again give the same id. */
  readonly id: string;
  readonly records: UsageRecord[];
  /** Lines the filter passed that are not usage records (logged, never counted). */
  readonly rejected: number;
}

/** The usage records of one CloudWatch Logs subscription delivery (see recordsOf). */
export function usageBatchOf(event: CloudWatchLogsEvent): UsageBatch {
  const delivery = recordsOf(event, UsageRecordSchema);
  return {
    id: delivery.id,
    records: delivery.records.map(({ record }) => record),
    rejected: delivery.rejected,
  };
}
