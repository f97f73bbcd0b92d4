import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isConditionFailure } from '../platform/aws-clients.js';
import { ValidationError } from '../platform/errors.js';
import { AUDIT_TABLE } from '../platform/table-schema.js';
import { decodeCursor, encodeCursor } from '../tenancy/collection.js';
import type { TenantId } from '../tenancy/tenant.js';
import {
  AuditActionSchema,
  type AuditActor,
  AuditOutcomeSchema,
  type AuditRecord,
} from './audit-record.js';

/** One record as the trail keeps it and shows it (the tenant is the partition). */
export interface AuditEntry {
  /** ISO 8601, milliseconds. */
  readonly time: string;
  readonly actor: AuditActor;
  readonly action: string;
  readonly targets: readonly string[];
  readonly argsDigest?: string;
  readonly outcome: AuditRecord['outcome'];
  readonly reason?: string;
  readonly requestId?: string;
}

/** A report's filters, the same for the `audit_report` tool, the console and the CLI. */
export const AuditQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** A person's pseudonym or an agent's id. */
    actor: z
      .string()
      .regex(/^(u_[A-Za-z0-9_-]{22}|[0-9a-f]{16})$/, 'a pseudonym (u_…) or an agent id')
      .optional(),
    action: AuditActionSchema.optional(),
    outcome: AuditOutcomeSchema.optional(),
    cursor: z.string().max(512).optional(),
    limit: z.number().int().min(1).max(100).default(50),
  })
  .strict();
export type AuditQuery = z.input<typeof AuditQuerySchema>;

export interface AuditPage {
  readonly records: AuditEntry[];
  /** Where the next page starts (tenant-bound: another tenant's cursor is refused). */
  readonly nextCursor?: string;
}

/** A record's sort key: its time (ISO 8601, UTC, milliseconds) and its log event's id. */
const SORT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9A-Za-z-]{1,64}$/;

/** How many items one report reads at most before it answers with a cursor (filters skip). */
const READ_BUDGET = 500;

/**
 * The audit trail: one partition per tenant in a table of its own, keyed by the tenant id
 * exactly, sorted by time. Appended to by the audit function only (and the operator CLI); no
 * role of the application may update or delete an item (the table's resource policy denies it
 * to every principal, lib/constructs/audit-trail.ts). Read newest first through the
 * tenant-scoped session, which IAM lets query its own partition only.
 */
export class AuditTrail {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** How long records are kept: DynamoDB's TTL deletes them after this. */
    private readonly retentionDays = 365,
  ) {}

  /**
   * Appends records, each once: the key is the record's time and its log event id, and the put
   * is conditional, so a delivery CloudWatch Logs or Lambda repeats appends nothing twice and
   * never overwrites what is there.
   * @returns how many records were new
   */
  async append(
    records: ReadonlyArray<{ readonly id: string; readonly record: AuditRecord }>,
  ): Promise<number> {
    let appended = 0;
    for (let start = 0; start < records.length; start += 10) {
      const results = await Promise.all(
        records.slice(start, start + 10).map(({ id, record }) => this.put(id, record)),
      );
      appended += results.filter(Boolean).length;
    }
    return appended;
  }

  private async put(id: string, record: AuditRecord): Promise<boolean> {
    const { record: _kind, tenantId, time, ...entry } = record;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [AUDIT_TABLE.partitionKey]: tenantId,
            [AUDIT_TABLE.sortKey]: `${new Date(time).toISOString()}#${id}`,
            ...entry,
            [AUDIT_TABLE.timeToLiveAttribute]: Math.ceil(time / 1000) + this.retentionDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': AUDIT_TABLE.sortKey },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * One page of a tenant's trail, newest first, filtered; at most `limit` records, after reading
   * at most 500 items (then a cursor, so a rare filter never makes one call long).
   */
  async report(tenantId: TenantId, query: AuditQuery): Promise<AuditPage> {
    const { from, to, actor, action, outcome, cursor, limit } = AuditQuerySchema.parse(query);
    const upper = to ? new Date(to).toISOString() : '\uffff';
    const lower = from ? new Date(from).toISOString() : '0';
    const after = cursor === undefined ? undefined : decodeCursor(cursor, tenantId, '');
    // A cursor continues inside the range it was issued for: an edited one, or one reused with
    // other times, would be outside DynamoDB's key condition (a ValidationException).
    if (
      after !== undefined &&
      (!SORT_KEY.test(after) || after < lower || after > `${upper}\uffff`)
    ) {
      throw new ValidationError('Invalid cursor.');
    }
    const filters: string[] = [];
    const values: Record<string, unknown> = {
      ':pk': tenantId,
      ':lower': lower,
      ':upper': `${upper}\uffff`,
    };
    const names: Record<string, string> = {
      '#pk': AUDIT_TABLE.partitionKey,
      '#sk': AUDIT_TABLE.sortKey,
    };
    if (actor) {
      filters.push('(actor.#user = :actor OR actor.agentId = :actor)');
      names['#user'] = 'user';
      values[':actor'] = actor;
    }
    if (action) {
      filters.push('#action = :action');
      names['#action'] = 'action';
      values[':action'] = action;
    }
    if (outcome) {
      filters.push('outcome = :outcome');
      values[':outcome'] = outcome;
    }

    const found: Array<{ key: string; entry: AuditEntry }> = [];
    let startKey: Record<string, unknown> | undefined = after
      ? { [AUDIT_TABLE.partitionKey]: tenantId, [AUDIT_TABLE.sortKey]: after }
      : undefined;
    let read = 0;
    const page = (last?: string): AuditPage => ({
      records: found.map(({ entry }) => entry),
      ...(last ? { nextCursor: encodeCursor(tenantId, last) } : {}),
    });
    while (read < READ_BUDGET) {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: Math.min(READ_BUDGET - read, 100),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      read += result.ScannedCount ?? 0;
      for (const item of result.Items ?? []) {
        if (found.length === limit) return page(found[found.length - 1]?.key);
        found.push({ key: String(item[AUDIT_TABLE.sortKey]), entry: entryOf(item) });
      }
      startKey = result.LastEvaluatedKey;
      if (!startKey) return page();
    }
    // The read budget is spent: go on after the last item read, matched or not.
    return page(String(startKey?.[AUDIT_TABLE.sortKey]));
  }
}

function entryOf(item: Record<string, unknown>): AuditEntry {
  const sk = String(item[AUDIT_TABLE.sortKey]);
  return {
    time: sk.slice(0, sk.indexOf('#')),
    actor: item.actor as AuditActor,
    action: String(item.action),
    targets: (item.targets as string[] | undefined) ?? [],
    ...(item.argsDigest ? { argsDigest: String(item.argsDigest) } : {}),
    outcome: item.outcome as AuditRecord['outcome'],
    ...(item.reason ? { reason: String(item.reason) } : {}),
    ...(item.requestId ? { requestId: String(item.requestId) } : {}),
  };
}
