import middy from '@middy/core';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { UsageMeter } from '../shared/fair-use/usage-meter.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { logger, observed } from '../shared/platform/observability.js';
import { METERING_CONFIG } from './config.js';
import { usageBatchOf } from './log-batch.js';

/**
 * Metering: subscribed to the MCP function's log group (filter `{ $.record = "mcp-usage/1" }`),
 * it adds each delivery's usage records to the usage table, exactly once per delivery (see
 * UsageMeter.apply). A failure throws, so Lambda retries the asynchronous invocation; one that
 * keeps failing goes to the metering dead-letter queue, which has an alarm.
 */
const config = readConfig(METERING_CONFIG);
const meter = new UsageMeter(createDocumentClient(), config.USAGE_TABLE_NAME);

export const handler = middy<CloudWatchLogsEvent, void, Error, Context>()
  .use(observed())
  .handler(async (event) => {
    const batch = usageBatchOf(event);
    if (batch.rejected > 0) {
      logger.warn('Log lines that are not usage records were skipped', { lines: batch.rejected });
    }
    if (batch.records.length === 0) return;
    const applied = await meter.apply(batch.id, batch.records);
    logger.info(applied ? 'Usage metered' : 'Delivery already metered', {
      batch: batch.id,
      records: batch.records.length,
    });
  });
