import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { REGISTRY_TABLE } from '../platform/table-schema.js';

/**
 * What the registry's per-tenant partitions (`INVITES#<tenant>`, `AGENTS#<tenant>`) share:
 * reading one partition's items of a kind, and the secrets their links and clients carry, of
 * which only a digest is stored.
 */

/** Every item of `partition` whose sort key starts with `prefix`, read strongly consistent. */
export async function partitionItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const { partitionKey, sortKey } = REGISTRY_TABLE;
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: { ':pk': partition, ':prefix': prefix },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** 256 random bits, base64url (43 characters): a secret shown once. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether a value has the form of `newSecret`'s secrets. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The stored form of a secret: SHA-256, hex (a fast hash suffices for 256 random bits). */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` is the one `digest` was made from, in constant time. */
export function matchesDigest(secret: string, digest: string): boolean {
  const wanted = Buffer.from(digest, 'hex');
  const actual = Buffer.from(secretDigest(secret), 'hex');
  return wanted.length === actual.length && timingSafeEqual(wanted, actual);
}
