import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { roleSessionName, TENANT_TAG_KEY } from './isolation.js';
import type { TenantId } from './tenant.js';

export interface TenantCredentialsOptions {
  /** The data-access role whose policies read the `TenantId` session tag. */
  readonly roleArn: string;
  /** @default 900 (the minimum STS allows) */
  readonly durationSeconds?: number;
  /**
   * Renew this long before expiry. At least the AWS SDK's own margin (5 minutes), or the SDK
   * would ask for fresh credentials on every request near the end of a session.
   * @default 360_000
   */
  readonly refreshMarginMs?: number;
  /** How many tenants' sessions one warm environment keeps. @default 256 */
  readonly maxCachedTenants?: number;
  readonly now?: () => number;
}

/**
 * Hands out AWS credentials that can reach one tenant's data and nothing else: an STS session
 * of the data-access role tagged `TenantId=<tenant>`, which IAM compares with the DynamoDB
 * partition key (`dynamodb:LeadingKeys`) and, later, KMS encryption context and secret tags.
 *
 * Sessions are cached per tenant in module scope (one AssumeRole per tenant per ~15 minutes
 * per warm Lambda environment), and concurrent first requests for a tenant share one call.
 */
export class TenantCredentials {
  private readonly cache = new Map<TenantId, Promise<AwsCredentialIdentity>>();
  private readonly durationSeconds: number;
  private readonly refreshMarginMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sts: STSClient,
    private readonly options: TenantCredentialsOptions,
  ) {
    this.durationSeconds = options.durationSeconds ?? 900;
    this.refreshMarginMs = options.refreshMarginMs ?? 360_000;
    this.now = options.now ?? Date.now;
  }

  /** Credentials scoped to `tenantId`, from the cache while they have time left. */
  async forTenant(tenantId: TenantId): Promise<AwsCredentialIdentity> {
    const cached = this.cache.get(tenantId);
    if (cached) {
      const credentials = await cached.catch(() => undefined);
      if (credentials && this.isFresh(credentials)) return credentials;
    }
    const pending = this.assume(tenantId);
    this.cache.delete(tenantId);
    this.cache.set(tenantId, pending);
    if (this.cache.size > (this.options.maxCachedTenants ?? 256)) {
      const [oldest] = this.cache.keys();
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    // A failed AssumeRole is not kept: the next request tries again.
    pending.catch(() => {
      if (this.cache.get(tenantId) === pending) this.cache.delete(tenantId);
    });
    return pending;
  }

  private isFresh(credentials: AwsCredentialIdentity): boolean {
    const expiresAt = credentials.expiration?.getTime() ?? 0;
    return expiresAt - this.refreshMarginMs > this.now();
  }

  private async assume(tenantId: TenantId): Promise<AwsCredentialIdentity> {
    const { Credentials } = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.options.roleArn,
        RoleSessionName: roleSessionName(tenantId),
        DurationSeconds: this.durationSeconds,
        Tags: [{ Key: TENANT_TAG_KEY, Value: tenantId }],
      }),
    );
    if (
      !Credentials?.AccessKeyId ||
      !Credentials.SecretAccessKey ||
      !Credentials.SessionToken ||
      !Credentials.Expiration
    ) {
      throw new Error('STS AssumeRole returned no credentials');
    }
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: Credentials.Expiration,
    };
  }
}
