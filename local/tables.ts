import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import {
  AUDIT_TABLE,
  OAUTH_TABLE,
  REGISTRY_TABLE,
  TENANT_DATA_TABLE,
  USAGE_TABLE,
} from '../lambda/shared/platform/table-schema.js';

/** Table names used by local runs (on AWS, CloudFormation names the tables). */
export const LOCAL_TABLE_NAMES = {
  registry: 'tenant-registry',
  data: 'tenant-data',
  usage: 'tenant-usage',
  oauth: 'oauth-facade',
  audit: 'audit-trail',
} as const;

type TableNames = { readonly [K in keyof typeof LOCAL_TABLE_NAMES]: string };

const S = 'S' as const;

/** CreateTable inputs built from the same schema module as the CDK construct. */
export function tableDefinitions(names: TableNames = LOCAL_TABLE_NAMES): CreateTableCommandInput[] {
  const index = REGISTRY_TABLE.byTenantIndex;
  return [
    {
      TableName: names.registry,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: REGISTRY_TABLE.partitionKey, AttributeType: S },
        { AttributeName: REGISTRY_TABLE.sortKey, AttributeType: S },
        { AttributeName: index.partitionKey, AttributeType: S },
        { AttributeName: index.sortKey, AttributeType: S },
      ],
      KeySchema: [
        { AttributeName: REGISTRY_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: REGISTRY_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: [...index.projectedAttributes],
          },
        },
      ],
    },
    {
      TableName: names.data,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TENANT_DATA_TABLE.partitionKey, AttributeType: S },
        { AttributeName: TENANT_DATA_TABLE.sortKey, AttributeType: S },
      ],
      KeySchema: [
        { AttributeName: TENANT_DATA_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TENANT_DATA_TABLE.sortKey, KeyType: 'RANGE' },
      ],
    },
    // dynalite has no UpdateTimeToLive: expired windows are simply never read again.
    {
      TableName: names.usage,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: USAGE_TABLE.partitionKey, AttributeType: S },
        { AttributeName: USAGE_TABLE.sortKey, AttributeType: S },
      ],
      KeySchema: [
        { AttributeName: USAGE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: USAGE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
    },
    // The audit trail: append-only (the resource policy, local/deployed-contract.ts).
    {
      TableName: names.audit,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: AUDIT_TABLE.partitionKey, AttributeType: S },
        { AttributeName: AUDIT_TABLE.sortKey, AttributeType: S },
      ],
      KeySchema: [
        { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
      ],
    },
    // The authorization façade's records; expiry is checked on every read.
    {
      TableName: names.oauth,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: OAUTH_TABLE.partitionKey, AttributeType: S }],
      KeySchema: [{ AttributeName: OAUTH_TABLE.partitionKey, KeyType: 'HASH' }],
    },
  ];
}

/** Creates the tables; tables that already exist (a restart on disk data) are kept as they are. */
export async function createTables(
  client: DynamoDBClient,
  names: TableNames = LOCAL_TABLE_NAMES,
): Promise<void> {
  for (const definition of tableDefinitions(names)) {
    try {
      await client.send(new CreateTableCommand(definition));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}
