import { TENANT_DATA_ACTIONS, TENANT_TAG_KEY } from '../../lambda/shared/isolation.js';
import { REGISTRY_TABLE, TENANT_DATA_TABLE } from '../../lambda/shared/table-schema.js';
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

/**
 * What IAM decides for a request signed with a data-access session: the same rules as the
 * role's policy in lib/constructs/tenant-isolation.ts —
 *
 * - on the tenant data table, only the item actions in TENANT_DATA_ACTIONS (no index), and
 *   every partition key the request touches (`dynamodb:LeadingKeys`) equal to the session's
 *   `TenantId` tag, which must be present;
 * - on the registry, only GetItem of `TENANT#<tag>` and Query of the byTenant index's
 *   `TENANT#<tag>` partition.
 *
 * This lets local runs show the refusal a tenant would get on AWS; the real policy documents
 * are checked against the same cases by the infra tests.
 */
export function decideDataAccess(
  action: string,
  request: DynamoRequest,
  session: Session,
  tables: { data: string; registry: string },
): Decision {
  const deny = (reason: string): Decision => ({ allowed: false, reason });
  const tenant = session.tags[TENANT_TAG_KEY];
  if (!tenant) return deny(`the session has no ${TENANT_TAG_KEY} tag`);
  if (request.TableName === tables.registry) return decideRegistryAccess(action, request, tenant);
  if (!(TENANT_DATA_ACTIONS as readonly string[]).includes(`dynamodb:${action}`)) {
    return deny(`dynamodb:${action} is not allowed`);
  }
  const dataTable = tables.data;

  let keys: Array<Item | undefined>;
  try {
    keys = leadingKeyItems(action, request, dataTable);
  } catch (error) {
    return deny((error as Error).message);
  }
  if (keys.length === 0) return deny('the request names no partition key');
  const pk = TENANT_DATA_TABLE.partitionKey;
  for (const key of keys) {
    const value = key?.[pk]?.S;
    if (value !== tenant) {
      return deny(`partition key ${JSON.stringify(value ?? null)} is not the session's tenant`);
    }
  }
  return { allowed: true };
}

function decideRegistryAccess(action: string, request: DynamoRequest, tenant: string): Decision {
  const own = `${REGISTRY_TABLE.tenantKeyPrefix}${tenant}`;
  const index = REGISTRY_TABLE.byTenantIndex;
  if (action === 'GetItem' && request.Key?.[REGISTRY_TABLE.partitionKey]?.S === own) {
    return { allowed: true };
  }
  if (
    action === 'Query' &&
    request.IndexName === index.indexName &&
    queryPartitionKey(request, index.partitionKey)?.[index.partitionKey]?.S === own &&
    (!request.ExclusiveStartKey || request.ExclusiveStartKey[index.partitionKey]?.S === own)
  ) {
    return { allowed: true };
  }
  return { allowed: false, reason: `registry ${action} outside the session's tenant` };
}

/** The items whose partition key IAM compares with the tag, per action. */
function leadingKeyItems(
  action: string,
  request: DynamoRequest,
  dataTable: string,
): Array<Item | undefined> {
  const onDataTable = (table: string | undefined) => {
    if (table !== dataTable) throw new Error(`table ${table} is not the tenant data table`);
  };
  switch (action) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
    case 'ConditionCheckItem':
      onDataTable(request.TableName);
      return [request.Key];
    case 'PutItem':
      onDataTable(request.TableName);
      return [request.Item];
    case 'Query': {
      onDataTable(request.TableName);
      if (request.IndexName) throw new Error('queries on indexes are not allowed');
      const keys: Array<Item | undefined> = [
        queryPartitionKey(request, TENANT_DATA_TABLE.partitionKey),
      ];
      if (request.ExclusiveStartKey) keys.push(request.ExclusiveStartKey);
      return keys;
    }
    case 'BatchGetItem':
      return Object.entries(request.RequestItems ?? {}).flatMap(([table, entry]) => {
        onDataTable(table);
        return (entry as { Keys?: Item[] }).Keys ?? [];
      });
    case 'BatchWriteItem':
      return Object.entries(request.RequestItems ?? {}).flatMap(([table, writes]) => {
        onDataTable(table);
        return (
          writes as Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
        ).map((write) => write.PutRequest?.Item ?? write.DeleteRequest?.Key);
      });
    default:
      throw new Error(`dynamodb:${action} is not allowed`);
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
