import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TenantRegistry } from '../../lambda/shared/registry/registry.js';

/** A registry client on the local table the integration setup created. */
export function localRegistry(): TenantRegistry {
  const tableName = process.env.REGISTRY_TABLE_NAME;
  if (!tableName) throw new Error('REGISTRY_TABLE_NAME is not set: is this an integration test?');
  return new TenantRegistry(createDocumentClient(), tableName);
}

/** A tenant id no other test uses, with a readable prefix. */
export function uniqueTenantId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes a tenant item as the registry stores it, past `createTenant`'s checks: for records a
 * test must plant as they would be found (one a crashed run left, one from before a rule).
 */
export async function putTenantItem(record: {
  tenantId: string;
  name: string;
  tier: string;
  status: string;
  createdAt: string;
}): Promise<void> {
  await createDocumentClient().send(
    new PutCommand({
      TableName: process.env.REGISTRY_TABLE_NAME,
      Item: {
        pk: `TENANT#${record.tenantId}`,
        sk: 'TENANT',
        gsi1pk: 'TENANTS',
        gsi1sk: `TENANT#${record.tenantId}`,
        ...record,
        updatedAt: record.createdAt,
      },
    }),
  );
}
