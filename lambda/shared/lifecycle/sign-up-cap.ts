import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { USAGE_TABLE } from '../platform/table-schema.js';

const DAY_SECONDS = 24 * 3600;

/** The day a self sign-up counts towards: its UTC date, `yyyy-mm-dd`. */
export function signUpDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * When a day's counter may be deleted (epoch seconds, the table's TTL attribute): a day after
 * the day ends. Nothing reads a past day's counter (its key names the day), so TTL deleting late
 * changes nothing.
 */
export function signUpCounterExpiry(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`) / 1000 + 2 * DAY_SECONDS;
}

/** The key of a day's counter in the usage table. */
export function signUpCounterKey(day: string): Record<string, string> {
  return {
    [USAGE_TABLE.partitionKey]: `${USAGE_TABLE.signUpsKeyPrefix}${day}`,
    [USAGE_TABLE.sortKey]: 'SELF',
  };
}

export interface CapDecision {
  readonly allowed: boolean;
  /** The day's self sign-ups, this one included (refused ones count too). */
  readonly count: number;
  readonly day: string;
}

/**
 * The daily cap on self sign-ups: one counter per UTC day in the usage table (the platform's
 * counters, with TTL), taken with one atomic `ADD`, so concurrent triggers never both get the
 * last place. Every attempt that reaches the count is counted, the refused ones too: the count
 * then says how large a flood was, and the cap's answer stays the same for the rest of the day.
 */
export class SignUpCap {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cap: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Counts one self sign-up today; `allowed` while the day's count is within the cap. */
  async take(): Promise<CapDecision> {
    const day = signUpDay(this.now());
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: signUpCounterKey(day),
        UpdateExpression: 'ADD #count :one SET #expires = if_not_exists(#expires, :expires)',
        ExpressionAttributeNames: {
          '#count': 'signUps',
          '#expires': USAGE_TABLE.timeToLiveAttribute,
        },
        ExpressionAttributeValues: { ':one': 1, ':expires': signUpCounterExpiry(day) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const count = Number(Attributes?.signUps ?? Number.NaN);
    if (!Number.isFinite(count)) throw new Error('The sign-up counter returned no count');
    return { allowed: count <= this.cap, count, day };
  }
}
