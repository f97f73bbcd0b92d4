import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { TENANT_TAG_KEY, tenantSecretName } from './isolation.js';
import type { TenantId } from './tenant.js';
import type { TenantCredentials } from './tenant-credentials.js';

export interface TenantSecretsOptions {
  readonly credentials: TenantCredentials;
  /** How long a read secret is reused. @default 60 seconds */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * A tenant's third-party credentials in Secrets Manager, named `mcp-tenants/<tenant>/<name>`
 * and tagged with the tenant, read and written with the tenant-scoped session: the role's
 * policy only reaches secrets under the session's own tenant path. Values are cached per
 * tenant for a short time and never logged.
 */
export class TenantSecrets {
  private readonly clients = new Map<TenantId, SecretsManagerClient>();
  private readonly cache = new Map<string, { value: string | undefined; until: number }>();

  constructor(private readonly options: TenantSecretsOptions) {}

  forTenant(tenantId: TenantId) {
    return {
      get: (name: string) => this.get(tenantId, name),
      put: (name: string, value: string) => this.put(tenantId, name, value),
    };
  }

  private async get(tenantId: TenantId, name: string): Promise<string | undefined> {
    const secretId = tenantSecretName(tenantId, name);
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(secretId);
    if (cached && cached.until > now) return cached.value;
    const value = await this.client(tenantId)
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((result) => result.SecretString)
      .catch((error: Error) => {
        // Missing, or scheduled for deletion: there is no usable secret.
        if (['ResourceNotFoundException', 'InvalidRequestException'].includes(error.name))
          return undefined;
        throw error;
      });
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

  private async put(tenantId: TenantId, name: string, value: string): Promise<void> {
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
    this.cache.delete(secretId);
  }

  private client(tenantId: TenantId): SecretsManagerClient {
    let client = this.clients.get(tenantId);
    if (!client) {
      client = new SecretsManagerClient({
        credentials: () => this.options.credentials.forTenant(tenantId),
      });
      this.clients.set(tenantId, client);
      if (this.clients.size > 64) {
        const [oldest] = this.clients.keys();
        if (oldest !== undefined) this.clients.delete(oldest);
      }
    }
    return client;
  }
}
