import middy from '@middy/core';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { AuditRecordSchema } from '../shared/audit/audit-record.js';
import { AuditTrail } from '../shared/audit/audit-trail.js';
import { createDocumentClient } from '../shared/platform/aws-clients.js';
import { readConfig } from '../shared/platform/config.js';
import { recordsOf } from '../shared/platform/log-delivery.js';
import { logger, observed } from '../shared/platform/observability.js';
import { AUDIT_CONFIG } from './config.js';

/**
 * The audit trail's writer: subscribed to the MCP function's log group (filter
 * `{ $.record = "mcp-audit/1" }`), it appends each delivery's audit records to the audit table,
 * each once (see AuditTrail.append). A failure throws, so Lambda retries the asynchronous
 * invocation; one that keeps failing goes to the audit dead-letter queue, which has an alarm,
 * and the records stay in the log group, from which the delivery can be replayed.
 */
const config = readConfig(AUDIT_CONFIG);
const trail = new AuditTrail(
  createDocumentClient(),
  config.AUDIT_TABLE_NAME,
  config.AUDIT_RETENTION_DAYS,
);

export const handler = middy<CloudWatchLogsEvent, void, Error, Context>()
  .use(observed())
  .handler(async (event) => {
    const delivery = recordsOf(event, AuditRecordSchema);
    if (delivery.rejected > 0) {
      logger.warn('Log lines that are not audit records were skipped', {
        lines: delivery.rejected,
      });
    }
    if (delivery.records.length === 0) return;
    const appended = await trail.append(
      delivery.records.map(({ eventId, record }) => ({ id: eventId, record })),
    );
    logger.info('Audit records appended', {
      delivery: delivery.id,
      records: delivery.records.length,
      appended,
    });
  });
