import { randomUUID } from 'node:crypto';
import {
  type APIGatewayClient,
  DeleteApiKeyCommand,
  UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import {
  AdminDisableUserCommand,
  AdminUserGlobalSignOutCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DeleteAliasCommand,
  DisableKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DeleteSecretCommand,
  ListSecretsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { ACCESS_DRAIN_SECONDS } from '../edge/api-contract.js';
import { ignore, removeKeyFromPlans, type UsagePlanIds } from '../edge/usage-plans.js';
import { isTierName, TIER_NAMES } from '../fair-use/tiers.js';
import { ConflictError, ValidationError } from '../platform/errors.js';
import { TENANT_DATA_TABLE } from '../platform/table-schema.js';
import { type AgentAccess, type AgentView, OPERATOR } from '../registry/agents.js';
import { TenantDirectory, type TenantDirectoryDeps } from '../registry/directory.js';
import type { InvitationRecord, InvitationView } from '../registry/invitations.js';
import type { MembershipRecord, TenantRecord } from '../registry/registry.js';
import { tenantKeyAlias, tenantSecretName } from '../tenancy/isolation.js';
import type { TenantId } from '../tenancy/tenant.js';
import type { ProvisioningQueue } from './provisioning-queue.js';
import { describeKey, findApiKeys, findTenantKeys } from './tenant-resources.js';

export interface TenantAdminDeps extends TenantDirectoryDeps {
  readonly apigw: APIGatewayClient;
  readonly usagePlanIds: UsagePlanIds;
  readonly kms: KMSClient;
  /** Finds tenant keys by tag, including any a crashed or racing run left unrecorded. */
  readonly tagging: ResourceGroupsTaggingAPIClient;
  /** Offboarding deletes the tenant's secrets. */
  readonly secretsManager: SecretsManagerClient;
  /** Offboarding deletes the tenant's partition of the data table with these credentials. */
  readonly data?: { readonly db: DynamoDBDocumentClient; readonly tableName: string };
  /**
   * How long offboarding waits between cutting access and deleting. Shorter only where no
   * request can outlive it (the tests' local stack). @default ACCESS_DRAIN_SECONDS
   */
  readonly drainMs?: number;
  /** Days before an offboarded tenant's key is deleted (KMS allows 7-30). @default 30 */
  readonly keyDeletionWindowDays?: number;
  /** Where tier changes are handed to the provisioner. */
  readonly queue?: ProvisioningQueue;
  /** Reports each step of a long operation. */
  readonly progress?: (message: string) => void;
}

/**
 * The tenant lifecycle, in one module for the operator CLI and the tenant-admin MCP tools:
 * invite, role change and removal of members, tier change, suspend/resume (the kill switch) and offboarding. Every operation can
 * be run again after a failure and ends in the same state; none touches another tenant.
 */
export class TenantAdmin {
  private readonly directory: TenantDirectory;

  constructor(private readonly deps: TenantAdminDeps) {
    this.directory = new TenantDirectory(deps);
  }

  list(): Promise<TenantRecord[]> {
    return this.deps.registry.listTenants();
  }

  /** The tenant, or NotFoundError: also for something that is not a tenant id at all. */
  tenant(tenantId: string): Promise<TenantRecord> {
    return this.directory.tenant(tenantId);
  }

  members(tenantId: string): Promise<MembershipRecord[]> {
    return this.directory.members(tenantId);
  }

  /** An invitation (an offer) and the code of its link: see TenantDirectory.invite. */
  invite(
    tenantId: string,
    email: string,
    role: string,
  ): Promise<{ invitation: InvitationRecord; code: string }> {
    return this.directory.invite(tenantId, email, role);
  }

  invitations(tenantId: string): Promise<InvitationView[]> {
    return this.directory.invitations(tenantId);
  }

  revokeInvitation(tenantId: string, invitationId: string): Promise<void> {
    return this.directory.revokeInvitation(tenantId, invitationId);
  }

  /** The tenant's agents (lambda/shared/registry/agents.ts), never a secret. */
  async agents(tenantId: string): Promise<AgentView[]> {
    const tenant = await this.tenant(tenantId);
    return this.directory.forTenant(tenant.tenantId).agents();
  }

  /** A new agent and its secret (shown once); the caller checks the tools against the tier. */
  async createAgent(
    tenantId: string,
    input: { name: string; tools: readonly string[]; access: AgentAccess },
  ): Promise<{ agent: AgentView; clientSecret: string }> {
    const tenant = await this.tenant(tenantId);
    return this.directory.forTenant(tenant.tenantId).createAgent(input, OPERATOR);
  }

  async rotateAgent(
    tenantId: string,
    agentId: string,
  ): Promise<{ agent: AgentView; clientSecret: string }> {
    const tenant = await this.tenant(tenantId);
    return this.directory.forTenant(tenant.tenantId).rotateAgent(agentId);
  }

  async revokeAgent(tenantId: string, agentId: string): Promise<void> {
    const tenant = await this.tenant(tenantId);
    await this.directory.forTenant(tenant.tenantId).revokeAgent(agentId);
  }

  /** See TenantDirectory.setRole: the last admin is never demoted. */
  setRole(tenantId: string, userId: string, role: string): Promise<MembershipRecord> {
    return this.directory.setRole(tenantId, userId, role);
  }

  /** See TenantDirectory.remove: access first, then the account; never the last admin. */
  removeMember(tenantId: string, userId: string): Promise<void> {
    return this.directory.remove(tenantId, userId);
  }

  /**
   * Moves the tenant to `tier`: records the change (refused while another change of the tenant
   * is under way, or if the tenant is not active) and hands it to the provisioner, which makes
   * the new tier's keys, re-seals the tenant's data under them and retires the old ones
   * (lambda/provisioner/tier-migration.ts). With `wait`, returns once it is done. Asking again
   * for the change under way hands it over again (a resumed change); the same tier is a no-op.
   */
  async changeTier(
    tenantId: string,
    tier: string,
    options: { wait?: boolean; timeoutMs?: number } = { wait: true },
  ): Promise<TenantRecord> {
    if (!isTierName(tier))
      throw new ValidationError(`Tier must be one of ${TIER_NAMES.join(', ')}.`);
    const tenant = await this.tenant(tenantId);
    const id = tenant.tenantId;
    if (tenant.status === 'OFFBOARDING' || tenant.status === 'DELETED') {
      throw new ConflictError('The organisation is being or has been offboarded.');
    }
    const queue = this.deps.queue;
    if (!queue) throw new Error('tier changes need the provisioning queue');
    let migration = tenant.migration;
    if (migration && migration.to !== tier) {
      throw new ConflictError(
        `A change of this organisation to ${migration.to} is under way; try again when it is done.`,
      );
    }
    if (!migration) {
      if (tenant.tier === tier) {
        this.report(`Already on ${tier}`);
        return tenant;
      }
      migration = {
        id: randomUUID(),
        from: tenant.tier,
        to: tier,
        step: 'resources',
        since: new Date().toISOString(),
      };
      await this.deps.registry.beginMigration(id, migration);
      this.report(`Tier change ${tenant.tier} -> ${tier} recorded`);
    }
    await queue.request(id, `tier-${migration.id}-${Date.now()}`);
    this.report('Handed to the provisioner');
    if (!options.wait) return (await this.deps.registry.getTenant(id)) as TenantRecord;
    return this.waitForTier(id, migration.id, options.timeoutMs ?? 15 * 60_000);
  }

  /** Waits until the change `migrationId` is done, reporting each step it reaches. */
  private async waitForTier(
    tenantId: TenantId,
    migrationId: string,
    timeoutMs: number,
  ): Promise<TenantRecord> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const current = (await this.deps.registry.getTenant(tenantId)) as TenantRecord;
      if (current.migration?.id !== migrationId) {
        this.report(`Tier recorded: ${current.tier}`);
        return current;
      }
      if (current.migration.step !== last) {
        last = current.migration.step;
        this.report(`Step: ${last}`);
      }
      if (Date.now() > deadline) {
        throw new ConflictError(
          'The tier change is still under way; it goes on in the background (run the command again to follow it).',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * The kill switch: the registry refuses new tokens and the authorizer new requests (within
   * its 60 s cache time), and the disabled API key stops requests at API Gateway sooner
   * (within about ten seconds, as API Gateway propagates key changes).
   */
  async suspend(tenantId: string): Promise<void> {
    const tenant = await this.tenant(tenantId);
    await this.deps.registry.transitionTenant(tenant.tenantId, {
      from: ['ACTIVE', 'SUSPENDED'],
      to: 'SUSPENDED',
    });
    this.report('Status: SUSPENDED');
    if (tenant.apiKeyId) await this.setApiKeyEnabled(tenant.apiKeyId, false);
  }

  async resume(tenantId: string): Promise<void> {
    const tenant = await this.tenant(tenantId);
    if (tenant.status === 'ACTIVE') return;
    if (tenant.status !== 'SUSPENDED') {
      throw new ConflictError('Only a suspended organisation can be resumed.');
    }
    if (tenant.apiKeyId) await this.setApiKeyEnabled(tenant.apiKeyId, true);
    await this.deps.registry.transitionTenant(tenant.tenantId, {
      from: ['SUSPENDED'],
      to: 'ACTIVE',
    });
    this.report('Status: ACTIVE');
    // A tier change stops while the tenant is suspended: it goes on now.
    if (tenant.migration && this.deps.queue) {
      await this.deps.queue.request(tenant.tenantId, `tier-${tenant.migration.id}-${Date.now()}`);
      this.report(`Tier change to ${tenant.migration.to} handed to the provisioner again`);
    }
  }

  /**
   * Offboards a tenant, access first: the record says OFFBOARDING (the authorizer and the
   * pre-token trigger refuse), its API keys are disabled (API Gateway refuses even a cached
   * authorizer answer), its users are disabled and signed out (no sign-in, no refresh) and
   * their memberships removed, and its KMS key is disabled (no data key, cached credentials or
   * not). Then it waits until no request admitted before the cut can still be running
   * (ACCESS_DRAIN_SECONDS), cuts again (for a membership or key added meanwhile), deletes its data partition, secrets and API keys, schedules its KMS
   * keys for deletion (crypto-shredding whatever copies remain), deletes the partition once
   * more for anything that landed during the first pass, and marks it DELETED, the record kept
   * for audit. Resumable: each step skips what is already done.
   */
  async offboard(tenantId: string): Promise<void> {
    const tenant = await this.tenant(tenantId);
    if (tenant.status === 'DELETED') {
      this.report('Already offboarded');
      return;
    }
    const id = tenant.tenantId;
    // From here on a provisioning run can record nothing more (its writes require
    // PROVISIONING); what it created unrecorded is found below by alias, tag and name.
    const current = await this.deps.registry.transitionTenant(id, {
      from: ['PROVISIONING', 'ACTIVE', 'SUSPENDED', 'OFFBOARDING'],
      to: 'OFFBOARDING',
    });
    this.report('Status: OFFBOARDING');

    // 1. Cut access.
    const first = await this.cutAccess(id, current);

    // 2. Wait for requests admitted before the cut to end; then cut again, for anything a
    // request or a provisioning run still added meanwhile (a membership, an API key, a key).
    const drainMs = this.deps.drainMs ?? ACCESS_DRAIN_SECONDS * 1000;
    this.report(`Waiting ${Math.ceil(drainMs / 1000)} s for requests admitted before the cut`);
    await new Promise((resolve) => setTimeout(resolve, drainMs));
    const second = await this.cutAccess(id, current);
    const apiKeyIds = new Set([...first.apiKeyIds, ...second.apiKeyIds]);
    const keyArns = new Set([...first.keyArns, ...second.keyArns]);

    // 3. Delete.
    this.report(`Data items deleted: ${await this.deletePartition(id)}`);
    const { SecretList = [] } = await this.deps.secretsManager.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [`${tenantSecretName(id, '')}`] }],
      }),
    );
    for (const secret of SecretList) {
      if (!secret.Name?.startsWith(tenantSecretName(id, ''))) continue;
      await this.deps.secretsManager
        .send(new DeleteSecretCommand({ SecretId: secret.ARN, ForceDeleteWithoutRecovery: true }))
        .catch(ignore('ResourceNotFoundException'));
    }
    this.report(`Secrets deleted: ${SecretList.length}`);
    for (const apiKeyId of apiKeyIds) {
      await removeKeyFromPlans(this.deps.apigw, apiKeyId, this.deps.usagePlanIds);
      await this.deps.apigw
        .send(new DeleteApiKeyCommand({ apiKey: apiKeyId }))
        .catch(ignore('NotFoundException'));
    }
    this.report(`API keys deleted: ${apiKeyIds.size}`);
    await this.deps.kms
      .send(new DeleteAliasCommand({ AliasName: tenantKeyAlias(id) }))
      .catch(ignore('NotFoundException'));
    for (const keyArn of keyArns) {
      await this.deps.kms
        .send(
          new ScheduleKeyDeletionCommand({
            KeyId: keyArn,
            PendingWindowInDays: this.deps.keyDeletionWindowDays ?? 30,
          }),
        )
        .catch(ignore('KMSInvalidStateException', 'NotFoundException'));
    }
    this.report(`KMS keys scheduled for deletion: ${keyArns.size}`);
    // A pooled tier's tenant has no key of its own: its data key, wrapped by the pooled key, is
    // deleted instead, and with it every way to open what was sealed under it.
    await this.deps.registry.forgetDataKey(id);
    this.report('Wrapped data key deleted');
    // A write that landed while the first pass was reading pages is caught here.
    this.report(`Data items deleted on the second pass: ${await this.deletePartition(id)}`);

    await this.deps.registry.transitionTenant(id, { from: ['OFFBOARDING'], to: 'DELETED' });
    this.report('Status: DELETED');
  }

  /**
   * Everything that lets the tenant in, switched off: its API keys disabled, its members
   * disabled, signed out and removed, its pending invitations withdrawn, its agents revoked, its
   * KMS keys disabled. Returns the keys it found.
   */
  private async cutAccess(
    id: TenantId,
    recorded: TenantRecord,
  ): Promise<{ apiKeyIds: Set<string>; keyArns: Set<string> }> {
    const apiKeyIds = new Set([
      ...(recorded.apiKeyId ? [recorded.apiKeyId] : []),
      ...(await findApiKeys(id, this.deps.apigw)).map((key) => key.id),
    ]);
    for (const apiKeyId of apiKeyIds) {
      await this.setApiKeyEnabled(apiKeyId, false).catch(ignore('NotFoundException'));
    }
    const members = await this.deps.registry.listMembers(id);
    const user = (sub: string) => ({ UserPoolId: this.deps.userPoolId, Username: sub });
    for (const member of members) {
      await this.deps.cognito
        .send(new AdminDisableUserCommand(user(member.userSub)))
        .catch(ignore('UserNotFoundException'));
      await this.deps.cognito
        .send(new AdminUserGlobalSignOutCommand(user(member.userSub)))
        .catch(ignore('UserNotFoundException'));
      await this.deps.registry.removeMembership(member.userSub, id).catch(ignore('ConflictError'));
    }
    this.report(`Users disabled and signed out, memberships removed: ${members.length}`);
    const offers = (await this.deps.invitations.list(id)).filter((i) => i.status === 'PENDING');
    for (const offer of offers) {
      await this.deps.invitations.revoke(id, offer.invitationId).catch(ignore('NotFoundError'));
    }
    this.report(`Pending invitations withdrawn: ${offers.length}`);
    this.report(`Agents revoked: ${await this.deps.agents.revokeAll(id)}`);
    const keyArns = await this.tenantKeyArns(id, recorded.kmsKeyArn);
    for (const keyArn of keyArns) {
      await this.deps.kms
        .send(new DisableKeyCommand({ KeyId: keyArn }))
        .catch(ignore('KMSInvalidStateException', 'NotFoundException'));
    }
    this.report(`KMS keys disabled: ${keyArns.size}`);
    return { apiKeyIds, keyArns };
  }

  /** The tenant's KMS keys: recorded, aliased, or tagged (a crashed run's unrecorded key). */
  private async tenantKeyArns(id: TenantId, recorded?: string): Promise<Set<string>> {
    const aliased = await describeKey(this.deps.kms, tenantKeyAlias(id));
    return new Set([
      ...(recorded ? [recorded] : []),
      ...(aliased?.Arn ? [aliased.Arn] : []),
      ...(await findTenantKeys(id, this.deps)).map((key) => key.Arn as string),
    ]);
  }

  /** Deletes every item of exactly this tenant's partition; returns how many. */
  private async deletePartition(tenantId: TenantId): Promise<number> {
    const data = this.deps.data;
    if (!data) throw new Error('offboarding needs access to the data table');
    const { partitionKey: pk, sortKey: sk } = TENANT_DATA_TABLE;
    let deleted = 0;
    for (;;) {
      const { Items = [] } = await data.db.send(
        new QueryCommand({
          TableName: data.tableName,
          KeyConditionExpression: '#pk = :tenant',
          ExpressionAttributeNames: { '#pk': pk, '#sk': sk },
          ExpressionAttributeValues: { ':tenant': tenantId },
          ProjectionExpression: '#pk, #sk',
          // Strongly consistent: the second pass must see a write that landed just before it.
          ConsistentRead: true,
          Limit: 100,
        }),
      );
      if (Items.length === 0) return deleted;
      for (let i = 0; i < Items.length; i += 25) {
        let requests = Items.slice(i, i + 25).map((key) => ({ DeleteRequest: { Key: key } }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await data.db.send(
            new BatchWriteCommand({ RequestItems: { [data.tableName]: requests } }),
          );
          requests = (UnprocessedItems?.[data.tableName] as typeof requests | undefined) ?? [];
        }
      }
      deleted += Items.length;
    }
  }

  private async setApiKeyEnabled(apiKeyId: string, enabled: boolean): Promise<void> {
    await this.deps.apigw.send(
      new UpdateApiKeyCommand({
        apiKey: apiKeyId,
        patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }],
      }),
    );
    this.report(`API key ${enabled ? 'enabled' : 'disabled'}`);
  }

  private report(message: string): void {
    this.deps.progress?.(message);
  }
}
