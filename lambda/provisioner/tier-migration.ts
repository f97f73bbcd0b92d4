import { DeleteApiKeyCommand } from '@aws-sdk/client-api-gateway';
import {
  DeleteAliasCommand,
  DisableKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ignore, removeKeyFromPlans } from '../shared/edge/usage-plans.js';
import { TIERS } from '../shared/fair-use/tiers.js';
import {
  apiKeyName,
  describeKey,
  findApiKeys,
  findTenantKeys,
} from '../shared/lifecycle/tenant-resources.js';
import { isConditionFailure } from '../shared/platform/aws-clients.js';
import { TENANT_DATA_TABLE } from '../shared/platform/table-schema.js';
import type { TenantRecord, TierMigration } from '../shared/registry/registry.js';
import {
  newPooledDataKey,
  type TenantCipher,
  type TenantCryptography,
} from '../shared/tenancy/crypto.js';
import { tenantKeyAlias } from '../shared/tenancy/isolation.js';
import type { TenantId } from '../shared/tenancy/tenant.js';
import { ensureDedicatedResources, type ProvisionDeps } from './provision.js';

export interface TierMigrationDeps extends ProvisionDeps {
  /** The tenant's data partition through its own session: where its fields are re-sealed. */
  readonly tenantDb: (tenantId: TenantId) => DynamoDBDocumentClient;
  readonly dataTableName: string;
  /** Ciphers acting in the tenant's own session (crypto.ts). */
  readonly cryptography: TenantCryptography;
  /**
   * How long after a step starts its keys may still be in use: requests admitted with an
   * authorizer answer from before it (cached for the cache time) and running for up to the
   * function's timeout. ACCESS_DRAIN_SECONDS as deployed.
   */
  readonly drainMs: number;
  readonly now?: () => number;
  /**
   * Time left in this run (Lambda's `getRemainingTimeInMillis`): re-sealing a large partition
   * stops with 10 s to spare and the next run carries on where it stopped.
   */
  readonly remainingMs?: () => number;
  /**
   * Called once each step's effect is durable, with its name: progress for logs, and where the
   * tests inject a crash to prove each step resumable.
   */
  readonly checkpoint?: (step: MigrationCheckpoint) => void | Promise<void>;
}

export type MigrationCheckpoint =
  | 'resources-ready'
  | 'sealing-started'
  | 'item-resealed'
  | 'tier-recorded'
  | 'resources-retired'
  | 'done';

export type MigrationProgress =
  | { readonly state: 'none' }
  | { readonly state: 'done'; readonly tier: string }
  /**
   * A step must wait for keys still in use: run again after `waitSeconds` (0: it stopped
   * before its time ran out and can go on at once).
   */
  | { readonly state: 'waiting'; readonly waitSeconds: number };

/**
 * Carries the tenant's tier change (recorded by TenantAdmin.changeTier as `migration`) one
 * step further, as far as it can go now. Every step is recorded in the registry under the
 * change's id before the next begins, and each is idempotent, so a crash anywhere followed by a
 * new run ends in the same state, and no record is lost or exposed:
 *
 * 1. `resources`: the new tier's keys. Moving to a dedicated tier: its own KMS key (found by
 *    alias or tag if a crashed run made it) and its API key in the new tier's usage plan.
 *    Moving to a pooled tier: a new data key wrapped by the pooled key. Between two tiers of
 *    the same kind only the usage plan changes, and the change ends here.
 * 2. `sealing`: from now on requests seal new fields under the new key and open old ones with
 *    either (the authorizer hands both). Once no request can still hold an answer from before
 *    (the drain time), every sealed field still under the old key is opened and sealed again
 *    under the new one, each item with a write conditioned on its fields being unchanged; a
 *    field no key opens is left as it was. Then the tier is recorded.
 * 3. `retiring`: once the drain time has passed again, a second pass re-seals anything a request
 *    admitted just before the sealing step wrote late under the old key. Then a move down deletes
 *    the tenant's API key and alias and schedules its KMS key for deletion (copies of the old
 *    ciphertext are useless from then on), and the old key leaves the record: on a move up, the
 *    wrapped data key, and with it the platform's every way to open the old ciphertext (see
 *    SECURITY.md for what a backup of the registry still holds).
 *
 * Never sleeps: a step that must wait returns how long, and the caller runs it again then.
 */
export async function continueTierChange(
  tenantId: TenantId,
  deps: TierMigrationDeps,
): Promise<MigrationProgress> {
  const { registry, logger } = deps;
  const now = deps.now ?? Date.now;
  const checkpoint = async (step: MigrationCheckpoint) => {
    logger.info('Tier change step done', { step });
    await deps.checkpoint?.(step);
  };
  const tenant = await registry.getTenant(tenantId);
  let migration = tenant?.migration;
  // Offboarding overtakes a change: it finds whatever keys the change made by alias and tag.
  if (!tenant || !migration || tenant.status !== 'ACTIVE') return { state: 'none' };
  const { id } = migration;
  const from = TIERS[migration.from].resources;
  const to = TIERS[migration.to].resources;
  logger.appendKeys({ migrationId: id, fromTier: migration.from, toTier: migration.to });

  if (migration.step === 'resources') {
    if (to === 'dedicated') {
      // Its own key and API key, recorded under this change (never over another run's).
      await ensureDedicatedResources(tenant, migration.to, deps, {
        key: async (kmsKeyArn) => {
          await registry.advanceMigration(tenantId, id, {
            set: { kmsKeyArn },
            unset: ['kmsKeyArn'],
          });
          return kmsKeyArn;
        },
        apiKey: async (key) => {
          await registry.advanceMigration(tenantId, id, {
            set: { apiKeyId: key.id, apiKeyValue: key.value },
            unset: ['apiKeyId', 'apiKeyValue'],
          });
          return key;
        },
      });
    } else if (!tenant.dataKey) {
      const dataKey = await newPooledDataKey(deps.tenantKms(tenantId), deps.pooledKeyArn, tenantId);
      // Recorded only if no other run's got there first (`unset`): if one did, this run ends in
      // a ConflictError and the retry finds that key recorded (FIFO makes it all but unreachable).
      await registry.advanceMigration(tenantId, id, { set: { dataKey }, unset: ['dataKey'] });
    }
    await checkpoint('resources-ready');
    if (from === to) {
      await registry.advanceMigration(tenantId, id, {
        set: { tier: migration.to },
        remove: ['migration'],
      });
      await checkpoint('done');
      return { state: 'done', tier: migration.to };
    }
    migration = { ...migration, step: 'sealing', since: new Date(now()).toISOString() };
    await registry.advanceMigration(tenantId, id, { set: { migration } });
    await checkpoint('sealing-started');
  }

  // Every sealed field not under the new key, sealed again under it (resealPartition), from
  // where a paused run stopped.
  const resealAll = async (current: TierMigration) => {
    const record = (await registry.getTenant(tenantId)) as TenantRecord;
    const cipher = deps.cryptography.forTenant(tenantId, {
      sealWith: to === 'dedicated' ? 'own' : 'pooled',
      ...(record.kmsKeyArn ? { kmsKeyArn: record.kmsKeyArn } : {}),
      ...(record.dataKey ? { dataKey: record.dataKey } : {}),
    });
    return resealPartition(tenantId, cipher, current.cursor, deps, checkpoint, (cursor) =>
      registry.advanceMigration(tenantId, id, { set: { migration: { ...current, cursor } } }),
    );
  };

  if (migration.step === 'sealing') {
    const wait = Date.parse(migration.since) + deps.drainMs - now();
    if (wait > 0) return { state: 'waiting', waitSeconds: Math.ceil(wait / 1000) };
    const resealed = await resealAll(migration);
    if (resealed === 'paused') return { state: 'waiting', waitSeconds: 0 };
    logger.info('Fields re-sealed under the new key', { items: resealed });
    const { cursor: _done, ...sealed } = migration;
    migration = { ...sealed, step: 'retiring', since: new Date(now()).toISOString() };
    await registry.advanceMigration(tenantId, id, { set: { tier: migration.to, migration } });
    await checkpoint('tier-recorded');
  }

  const wait = Date.parse(migration.since) + deps.drainMs - now();
  if (wait > 0) return { state: 'waiting', waitSeconds: Math.ceil(wait / 1000) };
  // Once more, now that no request can hold an answer from before the sealing step: a field a
  // late request wrote under the old key (the old key is still in the record, so it opens).
  const late = await resealAll(migration);
  if (late === 'paused') return { state: 'waiting', waitSeconds: 0 };
  if (late > 0) logger.warn('Fields written late under the old key, re-sealed', { items: late });
  if (to === 'pooled') await retireOwnResources(tenantId, deps);
  await checkpoint('resources-retired');
  await registry.advanceMigration(tenantId, id, {
    remove: [
      ...(to === 'dedicated'
        ? (['dataKey'] as const)
        : (['kmsKeyArn', 'apiKeyId', 'apiKeyValue'] as const)),
      'migration',
    ],
  });
  await checkpoint('done');
  return { state: 'done', tier: migration.to };
}

/**
 * Opens every sealed field of the tenant's partition that is not under the cipher's sealing
 * key and seals it under that key. Each item is written only if its sealed fields are still
 * those it read (a request may have written it meanwhile, under the new key): on a conflict it
 * is read and done again. Returns how many items changed.
 */
async function resealPartition(
  tenantId: TenantId,
  cipher: TenantCipher,
  startAfter: string | undefined,
  deps: TierMigrationDeps,
  checkpoint: (step: MigrationCheckpoint) => Promise<void>,
  saveCursor: (cursor: string) => Promise<void>,
): Promise<number | 'paused'> {
  const db = deps.tenantDb(tenantId);
  const { partitionKey: pk, sortKey: sk } = TENANT_DATA_TABLE;
  const target = cipher.sealsWith;
  let resealed = 0;
  let unreadable = 0;
  let startKey: Record<string, unknown> | undefined =
    startAfter === undefined ? undefined : { [pk]: tenantId, [sk]: startAfter };
  let last: string | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: deps.dataTableName,
        KeyConditionExpression: '#pk = :tenant',
        ExpressionAttributeNames: { '#pk': pk },
        ExpressionAttributeValues: { ':tenant': tenantId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      if ((deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) < 10_000) {
        // The next run goes on after the last item done, rather than opening them all again.
        if (last !== undefined) await saveCursor(last);
        return 'paused';
      }
      let current: Record<string, unknown> | undefined = item;
      for (let attempt = 0; current; attempt++) {
        if (attempt === 5) throw new Error('an item kept changing while it was re-sealed');
        const sealed = current.sealed as Record<string, string> | undefined;
        if (!sealed || typeof sealed !== 'object') break;
        const next: Record<string, string> = {};
        let changed = false;
        for (const [field, message] of Object.entries(sealed)) {
          // A field no key of the tenant opens (corrupt, or copied from elsewhere) was unreadable
          // before and stays as it is: it must not hold the whole change up.
          const opened = await cipher.open(message).catch(() => undefined);
          if (!opened) unreadable += 1;
          if (
            !opened ||
            (opened.sealedBy.kind === target.kind && opened.sealedBy.key === target.key)
          ) {
            next[field] = message;
          } else {
            next[field] = await cipher.encrypt(opened.plaintext);
            changed = true;
          }
        }
        if (!changed) break;
        const key = { [pk]: current[pk], [sk]: current[sk] };
        try {
          // Unchanged since read: each sealed field compared as the string it is.
          const fields = Object.keys(sealed);
          await db.send(
            new UpdateCommand({
              TableName: deps.dataTableName,
              Key: key,
              UpdateExpression: 'SET #sealed = :next',
              ConditionExpression: fields.map((_, i) => `#sealed.#f${i} = :p${i}`).join(' AND '),
              ExpressionAttributeNames: {
                '#sealed': 'sealed',
                ...Object.fromEntries(fields.map((field, i) => [`#f${i}`, field])),
              },
              ExpressionAttributeValues: {
                ':next': next,
                ...Object.fromEntries(fields.map((field, i) => [`:p${i}`, sealed[field]])),
              },
            }),
          );
          resealed += 1;
          await checkpoint('item-resealed');
          current = undefined;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          // Written (or deleted) meanwhile: read it again.
          const again: { Items?: Record<string, unknown>[] } = await db.send(
            new QueryCommand({
              TableName: deps.dataTableName,
              KeyConditionExpression: '#pk = :tenant AND #sk = :sk',
              ExpressionAttributeNames: { '#pk': pk, '#sk': sk },
              ExpressionAttributeValues: { ':tenant': tenantId, ':sk': key[sk] },
              ConsistentRead: true,
            }),
          );
          current = again.Items?.[0];
        }
      }
      last = String(item[sk]);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  if (unreadable > 0) {
    deps.logger.error('Sealed fields no key of the tenant opens, left as they were', {
      fields: unreadable,
    });
  }
  return resealed;
}

/**
 * A tenant moved to a pooled tier: its API keys out of every plan and deleted, its alias
 * deleted, its KMS keys disabled (old ciphertext is useless at once) and scheduled for
 * deletion. Found by name, alias and tag, so a crashed run's leftovers go too.
 */
async function retireOwnResources(tenantId: TenantId, deps: TierMigrationDeps): Promise<void> {
  for (const apiKey of await findApiKeys(tenantId, deps.apigw)) {
    await removeKeyFromPlans(deps.apigw, apiKey.id, deps.usagePlanIds);
    await deps.apigw
      .send(new DeleteApiKeyCommand({ apiKey: apiKey.id }))
      .catch(ignore('NotFoundException'));
  }
  deps.logger.info('API keys deleted', { name: apiKeyName(tenantId) });
  const aliased = await describeKey(deps.kms, tenantKeyAlias(tenantId));
  // A key whose policy predates tier changes may refuse this role its alias: the alias then
  // stays, naming a key pending deletion, which provisioning never adopts.
  await deps.kms
    .send(new DeleteAliasCommand({ AliasName: tenantKeyAlias(tenantId) }))
    .catch(ignore('NotFoundException', 'AccessDeniedException'));
  const keys = new Set([
    ...(aliased?.Arn && aliased.KeyState !== 'PendingDeletion' ? [aliased.Arn] : []),
    // Disabled too: a run that crashed between disabling a key and scheduling it.
    ...(await findTenantKeys(tenantId, deps, ['Enabled', 'Disabled'])).map(
      (key) => key.Arn as string,
    ),
  ]);
  for (const keyArn of keys) {
    // Scheduling deletion alone stops every use; disabling first is what a key whose policy
    // predates tier changes may refuse this role, and it is not needed for that.
    await deps.kms
      .send(new DisableKeyCommand({ KeyId: keyArn }))
      .catch(ignore('KMSInvalidStateException', 'NotFoundException', 'AccessDeniedException'));
    await deps.kms
      .send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }))
      .catch(ignore('KMSInvalidStateException', 'NotFoundException'));
  }
  deps.logger.info('Own KMS keys disabled and scheduled for deletion', { keys: keys.size });
}
