import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConflictError, InternalError } from '../platform/errors.js';
import { abortWithRequest } from '../platform/request-scope.js';
import type { TenantCredentials } from './credentials.js';
import type { TenantTable } from './data.js';
import { TENANT_TAG_KEY, tenantSecretName } from './isolation.js';
import type { TenantId } from './tenant.js';

export interface TenantSecretsOptions {
  readonly credentials: TenantCredentials;
  /** How long a read secret is reused. @default 60 seconds */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** The item in the tenant's partition that records that a secret was stored. */
const secretRefKey = (name: string) => `SECRET#${name}`;

/**
 * A tenant's third-party credentials in Secrets Manager, named `mcp-tenants/<tenant>/<name>`
 * and tagged with the tenant, read and written with the tenant-scoped session: the role's
 * policy only reaches secrets under the session's own tenant path. Values are cached per
 * tenant for a short time and never logged.
 *
 * That a secret was stored is recorded in the tenant's own partition of the data table: IAM
 * answers AccessDenied, not ResourceNotFound, for a secret that does not exist (its tag
 * condition has no tag to match), so Secrets Manager alone cannot tell "never set" from "not
 * allowed". Without a record, AccessDenied means "not set"; with one, it stays an error. A
 * secret stored before records existed is read as usual and recorded then.
 */
export class TenantSecrets {
  private readonly clients = new Map<TenantId, SecretsManagerClient>();
  private readonly cache = new Map<string, { value: string | undefined; until: number }>();

  constructor(private readonly options: TenantSecretsOptions) {}

  /** The tenant's secrets; `table` is the tenant's partition, where stored secrets are recorded. */
  forTenant(tenantId: TenantId, table: TenantTable) {
    if (table.tenantId !== tenantId) throw new InternalError('secrets and table of two tenants');
    return {
      get: (name: string) => this.get(tenantId, name, table),
      put: (name: string, value: string) => this.put(tenantId, name, value, table),
    };
  }

  private async get(
    tenantId: TenantId,
    name: string,
    table: TenantTable,
  ): Promise<string | undefined> {
    const secretId = tenantSecretName(tenantId, name);
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(secretId);
    if (cached && cached.until > now) return cached.value;
    const recorded = (await table.get(secretRefKey(name))) !== undefined;
    const value = await this.client(tenantId)
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((result) => result.SecretString)
      .catch((error: Error) => {
        // Missing, or scheduled for deletion: there is no usable secret.
        if (['ResourceNotFoundException', 'InvalidRequestException'].includes(error.name))
          return undefined;
        if (error.name === 'AccessDeniedException' && !recorded) return undefined;
        throw error;
      });
    if (value !== undefined && !recorded) await this.record(table, name);
    // Only found values are kept: a secret set elsewhere is seen at the next request.
    if (value !== undefined) {
      this.cache.set(secretId, { value, until: now + (this.options.ttlMs ?? 60_000) });
      if (this.cache.size > 256) {
        const [oldest] = this.cache.keys();
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    return value;
  }

  private async put(
    tenantId: TenantId,
    name: string,
    value: string,
    table: TenantTable,
  ): Promise<void> {
    const secretId = tenantSecretName(tenantId, name);
    const client = this.client(tenantId);
    try {
      await client.send(
        new CreateSecretCommand({
          Name: secretId,
          SecretString: value,
          Description: `Integration credential of tenant ${tenantId}`,
          Tags: [{ Key: TENANT_TAG_KEY, Value: tenantId }],
        }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceExistsException')) throw error;
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    }
    // Recorded after the secret exists: a crash in between is repaired at the next read.
    await this.record(table, name);
    this.cache.delete(secretId);
  }

  private async record(table: TenantTable, name: string): Promise<void> {
    await table
      .create(secretRefKey(name), { kind: 'secret', name, storedAt: new Date().toISOString() })
      .catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
  }

  private client(tenantId: TenantId): SecretsManagerClient {
    let client = this.clients.get(tenantId);
    if (!client) {
      client = new SecretsManagerClient({
        credentials: () => this.options.credentials.forTenant(tenantId),
      });
      client.middlewareStack.use(abortWithRequest());
      this.clients.set(tenantId, client);
      if (this.clients.size > 64) {
        const [oldest] = this.clients.keys();
        if (oldest !== undefined) this.clients.delete(oldest);
      }
    }
    return client;
  }
}
