/**
 * Key schemas of the two tables, shared by the CDK construct that creates them and the local
 * harness that creates the same tables in dynalite, so the two cannot drift apart.
 */

/**
 * The tenant registry: tenants, memberships (user -> tenant + role) and, later, references to
 * each tenant's API key and KMS key. Written only by server code.
 */
export const REGISTRY_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** A tenant's item is keyed `TENANT#<id>`, and so are its members in the index. */
  tenantKeyPrefix: 'TENANT#',
  /** A membership is keyed `USER#<sub>`. */
  userKeyPrefix: 'USER#',
  /** The lease that serializes removals and demotions in one tenant: `LOCK#<tenant id>`. */
  lockKeyPrefix: 'LOCK#',
  /** A tenant's invitations (offers) and their daily count: `INVITES#<tenant id>`. */
  invitesKeyPrefix: 'INVITES#',
  /** A tenant's agents (OAuth clients of its own): `AGENTS#<tenant id>`. */
  agentsKeyPrefix: 'AGENTS#',
  /** The byTenant index partition that lists every tenant (for operators). */
  allTenantsKey: 'TENANTS',
  /**
   * Lists a tenant's members, and all tenants for operators: never a Scan. It projects only
   * what those lists show, never a tenant's API key value or key ARN.
   */
  byTenantIndex: {
    indexName: 'byTenant',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk',
    projectedAttributes: [
      'tenantId',
      'name',
      'tier',
      'status',
      'ownerSub',
      'createdAt',
      'updatedAt',
      'userSub',
      'role',
      'email',
    ],
  },
} as const;

/**
 * Usage counters, written only by the platform (the MCP function's own role), never through a
 * tenant-scoped session, so a tenant cannot reset what it is billed or limited on:
 * - `RATE#<tenant>#<user pseudonym>` / `<window start>`: one user's requests in a window;
 * - `BUDGET#<tenant>#<shard>` / `<yyyy-mm>`: the month's tool calls, in capped shards;
 * - `USAGE#<tenant>#<shard>` / `<yyyy-mm-dd>#<tool>`: calls, errors and duration per tool
 *   and day;
 * - `SIGNUPS#<yyyy-mm-dd>` / `SELF`: the day's self sign-ups, counted by the pre-sign-up
 *   trigger (lambda/shared/lifecycle/sign-up-cap.ts), the one item it may write.
 * Counters are spread over shards in the partition key, so one busy tenant writes to several
 * partitions rather than one. Items carry `expiresAt` (TTL) and expired windows are never read.
 */
export const USAGE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  /** The daily self sign-up counters: `SIGNUPS#<yyyy-mm-dd>`. */
  signUpsKeyPrefix: 'SIGNUPS#',
} as const;

/**
 * The tenant data table. The partition key is exactly the tenant id: IAM's
 * `dynamodb:LeadingKeys` condition compares it with the caller's `TenantId` session tag, so no
 * prefix or suffix may be added to it.
 */
/**
 * The audit trail (lambda/shared/audit/audit-trail.ts): partitioned by exactly the tenant id,
 * like tenant data, so the tenant-scoped session's `LeadingKeys` rule applies unchanged; sorted
 * by `<ISO time>#<log event id>`.
 */
export const AUDIT_TABLE = {
  partitionKey: 'tenantId',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
} as const;

export const TENANT_DATA_TABLE = {
  partitionKey: 'tenantId',
  sortKey: 'sk',
} as const;

/**
 * The authorization façade's short-lived records, one item per key, all with `expiresAt`
 * (TTL; expiry is also checked on every read, since TTL deletes late):
 * - `TXN#<id>`: an authorization request waiting for Cognito's answer (minutes);
 * - `CODE#<sha-256 of the code>`: a one-time façade code, its tokens sealed under a key derived
 *   from the code itself, so the table alone never yields a token (a minute);
 * - `CLIENT#<client id>`: a dynamically registered client (days);
 * - `REFRESH#<sha-256 of the refresh token>`: which client a refresh token was issued to;
 * - `REGISTRATIONS#<window>` and `REGISTRATIONS#<window>#<source>`: registration counters.
 * Read and written by the façade's own role only; no Query, no Scan.
 */
export const OAUTH_TABLE = {
  partitionKey: 'pk',
  timeToLiveAttribute: 'expiresAt',
} as const;
