import type { Logger } from '@aws-lambda-powertools/logger';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AuditPage, type AuditQuery, AuditTrail } from '../audit/audit-trail.js';
import type { JwtSigner } from '../edge/jwt-signer.js';
import type { MonthlyBudget } from '../fair-use/monthly-budget.js';
import type { UsageMeter, UsageRow } from '../fair-use/usage-meter.js';
import type { OutboundPolicy } from '../outbound/outbound.js';
import { webhookCredential } from '../outbound/webhook-credential.js';
import type { Pseudonyms } from '../platform/pseudonym.js';
import { Agents } from '../registry/agents.js';
import { type OwnTenant, TenantDirectory } from '../registry/directory.js';
import { Invitations } from '../registry/invitations.js';
import { TenantRegistry } from '../registry/registry.js';
import { type CollectionDefinition, TenantCollection } from './collection.js';
import type { TenantContext } from './context.js';
import type { FieldCipher, TenantCryptography } from './crypto.js';
import type { TenantDataAccess, TenantPartition } from './data.js';
import type { TenantSecrets } from './secrets.js';

/**
 * Where the tenant is scoped: one request's tenant context in, that tenant's capabilities out.
 *
 * A tool, resource or prompt gets a `TenantScope` and nothing else. Every capability in it is
 * bound to the caller's tenant id when the scope is made. Those that touch tenant data
 * (collections, the cipher, secrets, the tenant's own registry record, member list and
 * invitations) are signed with credentials IAM scopes to that tenant (isolation.ts, policy.ts):
 * code that named another tenant's key would get AccessDenied, not data. Membership items
 * (keyed by user) and usage counters go through the function's own role, with the tenant id
 * fixed here.
 */
export interface TenantScope {
  /** Who is calling: tenant, tier, role, user, from the verified authorizer context. */
  readonly context: TenantContext;
  /** The tenant's items of one collection (collection.ts): ids, sealing and cursors built in. */
  collection<Item extends { readonly id: string }, Sealed extends keyof Item>(
    definition: CollectionDefinition<Item, Sealed>,
  ): TenantCollection<Item, Sealed>;
  /** Envelope encryption under the tenant's own KMS key. */
  readonly cipher: FieldCipher;
  /** The tenant's secrets (Secrets Manager, under the tenant's own path). */
  readonly secrets: TenantSecretStore;
  /** The tenant's own registry entry: info, members, invitations. */
  readonly directory: OwnTenant;
  /** The tenant's metered usage. */
  readonly usage: TenantUsage;
  /** The tenant's audit trail, read through the tenant-scoped session (its partition only). */
  readonly audit: { report(query: AuditQuery): Promise<AuditPage> };
  /** Where tenant-chosen URLs may lead. */
  readonly outbound: OutboundPolicy;
  /**
   * A credential for one outbound delivery, minted for its destination (never the caller's
   * token): see outbound/webhook-credential.ts.
   */
  destinationCredential(destination: URL, body: string): Promise<string>;
  /**
   * A member's pseudonym (what logs and the audit trail name them by), from their Cognito `sub`:
   * an admin's member list shows it, so a trail's actors can be told apart.
   */
  pseudonymOf(sub: string): Promise<string>;
  /** Links to the platform's own pages. */
  readonly links: { invitation(code: string): string; readonly tokenEndpoint: string };
  readonly logger: Logger;
}

export interface TenantSecretStore {
  get(name: string): Promise<string | undefined>;
  put(name: string, value: string): Promise<void>;
}

export interface TenantUsage {
  report(from: string, to: string): Promise<UsageRow[]>;
  /** Tool calls counted against this month's budget. */
  budgetSpent(): Promise<number>;
}

export interface TenantScopesOptions {
  readonly data: TenantDataAccess;
  readonly cryptography: TenantCryptography;
  readonly secrets: TenantSecrets;
  readonly registryTableName: string;
  /** Membership items (keyed by user), read and written with the function's own role. */
  readonly platformDb: DynamoDBDocumentClient;
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  readonly usageMeter: UsageMeter;
  readonly budget: MonthlyBudget;
  /** The audit table (read with the tenant-scoped session). */
  readonly auditTableName: string;
  readonly outbound: OutboundPolicy;
  /** Signs outbound credentials; `issuer` is the platform's (its JWKS is published there). */
  readonly credentials: { readonly signer: JwtSigner; readonly issuer: string };
  readonly invitationLink: (code: string) => string;
  /** Where agents get their tokens (the authorization façade's token endpoint). */
  readonly tokenEndpoint: string;
  /** The pseudonym key, loaded once per environment when first needed. */
  readonly pseudonyms: () => Promise<Pseudonyms>;
  readonly logger: Logger;
}

/** Makes each request's `TenantScope` from the clients one warm environment keeps. */
export class TenantScopes {
  private readonly memberships: TenantRegistry;

  constructor(private readonly options: TenantScopesOptions) {
    this.memberships = new TenantRegistry(options.platformDb, options.registryTableName);
  }

  forRequest(context: TenantContext): TenantScope {
    const { options } = this;
    const { tenantId } = context;
    const table = options.data.forTenant(context);
    const scoped = options.data.scopedClient(context);
    const cipher = options.cryptography.forTenant(tenantId, context);
    return scopeOf({
      context,
      partition: table,
      cipher,
      secrets: options.secrets.forTenant(tenantId, table),
      // The tenant's record, member list, invitations and agents through the tenant-scoped
      // session: IAM lets it reach `TENANT#`, `INVITES#` and `AGENTS#<its tenant>` only.
      directory: new TenantDirectory({
        registry: new TenantRegistry(scoped, options.registryTableName),
        memberships: this.memberships,
        invitations: new Invitations(scoped, options.registryTableName),
        agents: new Agents(scoped, options.registryTableName),
        cognito: options.cognito,
        userPoolId: options.userPoolId,
      }).forTenant(tenantId),
      usage: {
        report: (from, to) => options.usageMeter.report(tenantId, from, to),
        budgetSpent: () => options.budget.spent(tenantId),
      },
      audit: {
        report: (query) => new AuditTrail(scoped, options.auditTableName).report(tenantId, query),
      },
      outbound: options.outbound,
      destinationCredential: (destination, body) =>
        webhookCredential(
          options.credentials.signer,
          options.credentials.issuer,
          destination,
          context,
          body,
        ),
      pseudonymOf: async (sub) => (await options.pseudonyms()).of(sub),
      links: { invitation: options.invitationLink, tokenEndpoint: options.tokenEndpoint },
      logger: options.logger,
    });
  }
}

/** A scope from its parts: the deployed ones above, or in-memory ones in unit tests. */
export function scopeOf(
  parts: Omit<TenantScope, 'collection'> & { readonly partition: TenantPartition },
): TenantScope {
  const { partition, ...scope } = parts;
  if (
    partition.tenantId !== parts.context.tenantId ||
    parts.cipher.tenantId !== partition.tenantId
  ) {
    throw new Error('A scope is made of one tenant’s parts');
  }
  return {
    ...scope,
    collection: (definition) => new TenantCollection(partition, parts.cipher, definition),
  };
}
