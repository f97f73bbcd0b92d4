import { randomBytes } from 'node:crypto';
import { createDocumentClient } from '../../lambda/shared/aws-clients.js';
import { TenantRegistry } from '../../lambda/shared/registry.js';

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
