import {
  AUDIT_TABLE,
  OAUTH_TABLE,
  REGISTRY_TABLE,
  TENANT_DATA_TABLE,
  USAGE_TABLE,
} from '../../lambda/shared/platform/table-schema.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalIam } from '../iam/local-iam.js';
import { LOCAL_TABLE_NAMES } from '../tables.js';
import type { Session } from './sessions.js';

type AttributeValue = { S?: string } & Record<string, unknown>;
type Item = Record<string, AttributeValue | undefined>;
interface DynamoRequest {
  TableName?: string;
  IndexName?: string;
  Key?: Item;
  Item?: Item;
  ExclusiveStartKey?: Item;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  RequestItems?: Record<string, unknown>;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

/** The partition key of each local table and index: what `dynamodb:LeadingKeys` compares. */
const PARTITION_KEYS: Record<string, string> = {
  [LOCAL_TABLE_NAMES.data]: TENANT_DATA_TABLE.partitionKey,
  [LOCAL_TABLE_NAMES.registry]: REGISTRY_TABLE.partitionKey,
  [`${LOCAL_TABLE_NAMES.registry}/index/${REGISTRY_TABLE.byTenantIndex.indexName}`]:
    REGISTRY_TABLE.byTenantIndex.partitionKey,
  [LOCAL_TABLE_NAMES.usage]: USAGE_TABLE.partitionKey,
  [LOCAL_TABLE_NAMES.oauth]: OAUTH_TABLE.partitionKey,
  [LOCAL_TABLE_NAMES.audit]: AUDIT_TABLE.partitionKey,
};

/**
 * What IAM decides for a request signed with an STS session: the request's table (or index)
 * and the partition keys it touches (`dynamodb:LeadingKeys`) are put to the session role's
 * policies as CDK deploys them, by the policy evaluator (see LocalIam). No rule of the
 * isolation policy is written here: only how DynamoDB turns a request into IAM's context.
 * A request touching several tables (a batch) needs every one allowed.
 */
export async function decideDataAccess(
  action: string,
  request: DynamoRequest,
  session: Session,
  iam: LocalIam,
): Promise<Decision> {
  let touched: Map<string, Array<Item | undefined>>;
  try {
    touched = leadingKeyItems(action, request);
  } catch (error) {
    return { allowed: false, reason: (error as Error).message };
  }
  for (const [resource, items] of touched) {
    const partitionKey = PARTITION_KEYS[resource];
    const keys = items.map((item) => (partitionKey ? item?.[partitionKey]?.S : undefined));
    const context: Record<string, string[]> =
      keys.length > 0 && keys.every((k) => typeof k === 'string')
        ? { 'dynamodb:LeadingKeys': [...new Set(keys as string[])] }
        : {};
    const decision = await iam.decide(session, {
      action: `dynamodb:${action}`,
      resource: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${resource}`,
      context,
    });
    if (decision !== 'Allowed') {
      return {
        allowed: false,
        reason: `${decision} on table/${resource} for leading keys ${JSON.stringify(keys)}`,
      };
    }
  }
  return { allowed: true };
}

/** The items whose partition key IAM compares, per table (or `table/index/name`) and action. */
function leadingKeyItems(
  action: string,
  request: DynamoRequest,
): Map<string, Array<Item | undefined>> {
  const table = request.TableName ?? '';
  const on = (resource: string, items: Array<Item | undefined>) => new Map([[resource, items]]);
  switch (action) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
    case 'ConditionCheckItem':
      return on(table, [request.Key]);
    case 'PutItem':
      return on(table, [request.Item]);
    case 'Query': {
      const resource = request.IndexName ? `${table}/index/${request.IndexName}` : table;
      const partitionKey = PARTITION_KEYS[resource] ?? '';
      // The key condition pins one partition; a page's start key must lie in it too.
      const items: Array<Item | undefined> = [queryPartitionKey(request, partitionKey)];
      if (request.ExclusiveStartKey) items.push(request.ExclusiveStartKey);
      return on(resource, items);
    }
    case 'Scan':
      return on(request.IndexName ? `${table}/index/${request.IndexName}` : table, []);
    case 'BatchGetItem':
      return new Map(
        Object.entries(request.RequestItems ?? {}).map(([name, entry]) => [
          name,
          (entry as { Keys?: Item[] }).Keys ?? [],
        ]),
      );
    case 'BatchWriteItem':
      return new Map(
        Object.entries(request.RequestItems ?? {}).map(([name, writes]) => [
          name,
          (writes as Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>).map(
            (write) => write.PutRequest?.Item ?? write.DeleteRequest?.Key,
          ),
        ]),
      );
    default:
      // Table-level actions (DescribeTable, CreateTable, ...): no leading keys.
      return on(table, []);
  }
}

/** The partition key value a Query's key condition pins (`pk = :v`, either way round). */
function queryPartitionKey(request: DynamoRequest, pk: string): Item | undefined {
  const names = request.ExpressionAttributeNames ?? {};
  const resolve = (token: string) => (token.startsWith('#') ? names[token] : token);
  for (const [, left, right] of (request.KeyConditionExpression ?? '').matchAll(
    /([#:\w]+)\s*=\s*([#:\w]+)/g,
  )) {
    const [name, value] = left?.startsWith(':') ? [right, left] : [left, right];
    if (name && value && resolve(name) === pk) {
      return { [pk]: request.ExpressionAttributeValues?.[value] };
    }
  }
  return undefined;
}
