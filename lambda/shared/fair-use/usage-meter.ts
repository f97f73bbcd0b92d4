import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantId } from '../tenant.js';

/** Spread of one tenant's usage counters: writes land on this many partitions. */
export const USAGE_SHARDS = 8;

/** How a counted tool call ended. */
export type CallOutcome = 'ok' | 'error' | 'refused';

export interface UsageRow {
  readonly day: string;
  readonly tool: string;
  readonly calls: number;
  readonly errors: number;
  readonly refused: number;
  readonly totalDurationMs: number;
}

/** How long usage counters are kept (the TTL), long enough to bill and to answer disputes. */
const RETENTION_DAYS = 400;

/**
 * Metering: every tool call counted per tenant, per tool and per day with its outcome and
 * duration, by atomic increments on a shard chosen at random, and summed over the shards when
 * read.
 */
export class UsageMeter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  async record(call: {
    tenantId: TenantId;
    tool: string;
    outcome: CallOutcome;
    durationMs: number;
  }): Promise<void> {
    const now = this.now();
    const shard = Math.floor(this.random() * USAGE_SHARDS);
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `USAGE#${call.tenantId}#${shard}`, sk: `${dayOf(now)}#${call.tool}` },
        UpdateExpression:
          'ADD calls :one, errors :error, refused :refused, durationMs :duration SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: {
          ':one': 1,
          ':error': call.outcome === 'error' ? 1 : 0,
          ':refused': call.outcome === 'refused' ? 1 : 0,
          ':duration': Math.max(0, Math.round(call.durationMs)),
          ':expires': Math.ceil(now / 1000) + RETENTION_DAYS * 86_400,
        },
      }),
    );
  }

  /** Usage per day and tool between two days (`yyyy-mm-dd`, inclusive), oldest first. */
  async report(tenantId: TenantId, from: string, to: string): Promise<UsageRow[]> {
    const rows = new Map<string, UsageRow>();
    await Promise.all(
      Array.from({ length: USAGE_SHARDS }, async (_, shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: {
                ':pk': `USAGE#${tenantId}#${shard}`,
                ':from': `${from}#`,
                ':to': `${to}#\uffff`,
              },
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of page.Items ?? []) {
            const sk = String(item.sk);
            const [day = '', tool = ''] = [sk.slice(0, 10), sk.slice(11)];
            const previous = rows.get(sk);
            rows.set(sk, {
              day,
              tool,
              calls: (previous?.calls ?? 0) + Number(item.calls ?? 0),
              errors: (previous?.errors ?? 0) + Number(item.errors ?? 0),
              refused: (previous?.refused ?? 0) + Number(item.refused ?? 0),
              totalDurationMs: (previous?.totalDurationMs ?? 0) + Number(item.durationMs ?? 0),
            });
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return [...rows.values()].sort((a, b) =>
      a.day === b.day ? a.tool.localeCompare(b.tool) : a.day.localeCompare(b.day),
    );
  }
}

export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
