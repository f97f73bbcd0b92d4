import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type AuditEntry,
  type AuditQuery,
  AuditTrail,
} from '../../lambda/shared/audit/audit-trail.js';
import { LOCAL_TABLE_NAMES } from '../../local/tables.js';
import { harness } from './mcp.js';
import { meteringSettled } from './stand-in.js';

/** A DynamoDB client as the operator (or an application role) has it: through the stand-in. */
export function platformDb(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: harness().awsUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
}

/** Every record of a tenant's trail once the audit function has caught up, newest first. */
export async function auditRecords(
  tenantId: string,
  query: AuditQuery = {},
): Promise<AuditEntry[]> {
  await meteringSettled();
  const trail = new AuditTrail(platformDb(), LOCAL_TABLE_NAMES.audit);
  const records: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await trail.report(tenantId, {
      ...query,
      limit: 100,
      ...(cursor ? { cursor } : {}),
    });
    records.push(...page.records);
    cursor = page.nextCursor;
  } while (cursor);
  return records;
}
