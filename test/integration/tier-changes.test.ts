import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NOTES } from '../../lambda/mcp/features/notes/notes.js';
import {
  continueTierChange,
  type MigrationCheckpoint,
  type TierMigrationDeps,
} from '../../lambda/provisioner/tier-migration.js';
import { parseUsagePlanIds } from '../../lambda/shared/edge/usage-plans.js';
import type { TierName } from '../../lambda/shared/fair-use/tiers.js';
import { findApiKeys } from '../../lambda/shared/lifecycle/tenant-resources.js';
import { ConflictError, ValidationError } from '../../lambda/shared/platform/errors.js';
import type { TenantRecord } from '../../lambda/shared/registry/registry.js';
import { TenantCollection } from '../../lambda/shared/tenancy/collection.js';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import {
  pooledKeyName,
  TenantCryptography,
  type TenantKeys,
} from '../../lambda/shared/tenancy/crypto.js';
import { TenantDataAccess } from '../../lambda/shared/tenancy/data.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { localAdmin } from '../support/admin.js';
import { accessToken, connect, seedTenant, type TestUser, toolOutput } from '../support/mcp.js';
import { localRegistry } from '../support/registry.js';
import { tenantKeys } from '../support/stand-in.js';

/**
 * Tier changes as the provisioner runs them (lambda/provisioner/tier-migration.ts), driven here
 * step by step so that a crash can be injected after every step: the change is resumed by
 * running it again, as the provisioning queue does after a failed run.
 */
const credentials = new TenantCredentials(new STSClient({}), {
  roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
});
const pooledKeyArn = () => process.env.POOLED_KEY_ARN as string;
const cryptography = () => new TenantCryptography({ credentials, pooledKeyArn: pooledKeyArn() });
const data = () =>
  new TenantDataAccess({ tableName: process.env.DATA_TABLE_NAME as string, credentials });
const drainMs = (inject('authorizerCacheTtlSeconds') + 1) * 1000;

function deps(checkpoint: TierMigrationDeps['checkpoint']): TierMigrationDeps {
  return {
    registry: localRegistry(),
    kms: new KMSClient({}),
    tagging: new ResourceGroupsTaggingAPIClient({}),
    apigw: new APIGatewayClient({}),
    usagePlanIds: parseUsagePlanIds(process.env.USAGE_PLAN_IDS as string),
    dataAccessRoleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
    provisionerRoleArn: process.env.PROVISIONER_ROLE_ARN as string,
    pooledKeyArn: pooledKeyArn(),
    tenantKms: (tenantId) => new KMS({ credentials: () => credentials.forTenant(tenantId) }),
    tenantDb: (tenantId) => data().scopedClient({ tenantId }),
    dataTableName: process.env.DATA_TABLE_NAME as string,
    cryptography: cryptography(),
    drainMs,
    logger: new Logger({ logLevel: 'SILENT' }),
    checkpoint,
  };
}

/**
 * Records a change to `to` and runs it to the end, crashing once right after each step it
 * reaches (the step's effect is durable, the run dies), then resuming. Returns the steps that
 * crashed, in order.
 */
async function changeWithCrashes(
  tenantId: string,
  from: TierName,
  to: TierName,
  onCrash: (step: MigrationCheckpoint) => Promise<void> = async () => {},
) {
  const registry = localRegistry();
  await registry.beginMigration(tenantId, {
    id: randomUUID(),
    from,
    to,
    step: 'resources',
    since: new Date().toISOString(),
  });
  const crashed: MigrationCheckpoint[] = [];
  const observed: Array<{ step: MigrationCheckpoint; notes: unknown }> = [];
  let crashNext = true;
  const run = deps(async (step) => {
    if (!crashNext || crashed.includes(step)) return;
    crashed.push(step);
    throw new Error(`crash after ${step}`);
  });
  for (let runs = 0; runs < 40; runs++) {
    const progress = await continueTierChange(tenantId, run).catch((error: Error) => {
      if (!error.message.startsWith('crash after')) throw error;
      return { state: 'crashed' as const };
    });
    if (progress.state === 'crashed') {
      // Between the crash and the resume, the tenant is served as usual.
      const step = crashed.at(-1) as MigrationCheckpoint;
      observed.push({ step, notes: await readNotes() });
      await onCrash(step);
      continue;
    }
    if (progress.state === 'done' || progress.state === 'none') {
      crashNext = false;
      return { crashed, observed };
    }
    await new Promise((resolve) => setTimeout(resolve, progress.waitSeconds * 1000));
  }
  throw new Error('the change did not finish');
}

let tenant: TestUser;
let other: TestUser;
let before: Array<{ id: string; title: string; body: string }>;

async function readNotes() {
  // A new token and a cold authorizer answer: what a client sees after the cache time.
  await new Promise((resolve) => setTimeout(resolve, inject('authorizerCacheTtlSeconds') * 1000));
  const client = await connect(await accessToken(tenant), 'modern');
  try {
    const notes = [];
    for (const { id } of before) {
      notes.push(toolOutput(await client.callTool({ name: 'notes_get', arguments: { id } })));
    }
    return notes.map((note) => ({ id: note.id, title: note.title, body: note.body }));
  } finally {
    await client.close();
  }
}

async function sealedItems(tenantId: string) {
  const { Items = [] } = await data()
    .scopedClient({ tenantId })
    .send(
      new QueryCommand({
        TableName: process.env.DATA_TABLE_NAME as string,
        KeyConditionExpression: 'tenantId = :t',
        ExpressionAttributeValues: { ':t': tenantId },
        ConsistentRead: true,
      }),
    );
  return Items.filter((item) => item.sealed) as Array<{ sealed: Record<string, string> }>;
}

/** Which key every sealed field of the tenant is under, opened with exactly `keys`. */
async function sealedUnder(tenantId: string, keys: TenantKeys) {
  const cipher = cryptography().forTenant(tenantId, keys);
  const kinds = new Set<string>();
  for (const item of await sealedItems(tenantId)) {
    for (const message of Object.values(item.sealed)) {
      const { sealedBy } = await cipher.open(message);
      kinds.add(`${sealedBy.kind} ${sealedBy.key}`);
    }
  }
  return [...kinds];
}

/**
 * A note written the way a request admitted just before the sealing step would write it, late:
 * under the old key, after the first re-sealing pass (the second pass must catch it).
 */
async function lateWriteUnderOldKey(
  old: TenantRecord,
): Promise<{ id: string; title: string; body: string }> {
  const keys: TenantKeys = old.dataKey
    ? { dataKey: old.dataKey, sealWith: 'pooled' }
    : { kmsKeyArn: old.kmsKeyArn, sealWith: 'own' };
  const notes = new TenantCollection(
    data().forTenant({ tenantId: old.tenantId }),
    cryptography().forTenant(old.tenantId, keys),
    NOTES,
  );
  const note = await notes.create({
    id: notes.newId(),
    title: 'Late',
    body: `written late ${randomUUID()}`,
    tags: [],
    createdBy: tenant.sub,
    createdAt: new Date().toISOString(),
  });
  return { id: note.id, title: note.title, body: note.body as string };
}

const registryRecord = async (tenantId: string) =>
  (await localRegistry().getTenant(tenantId)) as TenantRecord;

describe('tier changes re-seal a tenant’s data, resumably', () => {
  beforeAll(async () => {
    tenant = await seedTenant('mover', { tier: 'free' });
    other = await seedTenant('bystander', { tier: 'free' });
    const client = await connect(await accessToken(tenant), 'modern');
    before = [];
    for (let i = 0; i < 4; i++) {
      const note = toolOutput(
        await client.callTool({
          name: 'notes_create',
          arguments: { title: `Plan ${i}`, body: `secret body ${i} ${randomUUID()}` },
        }),
      );
      before.push({ id: String(note.id), title: String(note.title), body: String(note.body) });
    }
    await client.close();
  });

  afterAll(async () => {
    await localAdmin().offboard(other.tenantId);
  });

  it('starts a free tenant with nothing of its own that costs money: a wrapped data key only', async () => {
    const record = await registryRecord(tenant.tenantId);

    expect(record).toMatchObject({ tier: 'free', status: 'ACTIVE' });
    expect(record.dataKey).toBeDefined();
    expect(record.kmsKeyArn).toBeUndefined();
    expect(record.apiKeyId).toBeUndefined();
    expect(await tenantKeys(tenant.tenantId)).toEqual([]);
  });

  it('moves up free -> standard with a crash after every step: same notes, under its own key, the old data key gone', async () => {
    const old = await registryRecord(tenant.tenantId);
    const oldCopy = (await sealedItems(tenant.tenantId))[0]?.sealed.body as string;

    const { crashed, observed } = await changeWithCrashes(
      tenant.tenantId,
      'free',
      'standard',
      async (step) => {
        if (step === 'tier-recorded') before.push(await lateWriteUnderOldKey(old));
      },
    );

    expect(crashed).toEqual([
      'resources-ready',
      'sealing-started',
      'item-resealed',
      'tier-recorded',
      'resources-retired',
      'done',
    ]);
    // Served throughout, whatever step the change had reached.
    for (const { notes } of observed)
      expect(before).toEqual(expect.arrayContaining(notes as never[]));
    const record = await registryRecord(tenant.tenantId);
    expect(record).toMatchObject({ tier: 'standard', status: 'ACTIVE' });
    expect(record.migration).toBeUndefined();
    expect(record.dataKey).toBeUndefined();
    expect(record.apiKeyValue).toBeDefined();
    expect(
      await sealedUnder(tenant.tenantId, { kmsKeyArn: record.kmsKeyArn, sealWith: 'own' }),
    ).toEqual([`own ${record.kmsKeyArn}`]);
    expect(await readNotes()).toEqual(before);
    // One key, one API key: the crashed runs made nothing twice.
    expect((await tenantKeys(tenant.tenantId)).filter((k) => k.state === 'Enabled')).toHaveLength(
      1,
    );
    // The old ciphertext no longer opens with anything the tenant holds: its data key has left
    // the registry (see SECURITY.md for what a registry backup still holds).
    await expect(
      cryptography()
        .forTenant(tenant.tenantId, { kmsKeyArn: record.kmsKeyArn, sealWith: 'own' })
        .decrypt(oldCopy),
    ).rejects.toThrow('Could not decrypt');
    expect(old.dataKey).not.toBe(record.dataKey);
  }, 120_000);

  it('moves down standard -> free with a crash after every step: same notes, under a new data key, its own key pending deletion', async () => {
    const old = await registryRecord(tenant.tenantId);
    const oldCopy = (await sealedItems(tenant.tenantId))[0]?.sealed.body as string;

    const { crashed, observed } = await changeWithCrashes(
      tenant.tenantId,
      'standard',
      'free',
      async (step) => {
        if (step === 'tier-recorded') before.push(await lateWriteUnderOldKey(old));
      },
    );

    expect(crashed).toContain('resources-retired');
    for (const { notes } of observed)
      expect(before).toEqual(expect.arrayContaining(notes as never[]));
    const record = await registryRecord(tenant.tenantId);
    expect(record).toMatchObject({ tier: 'free', status: 'ACTIVE' });
    expect(record.kmsKeyArn).toBeUndefined();
    expect(record.apiKeyId).toBeUndefined();
    expect(record.dataKey).toBeDefined();
    expect(
      await sealedUnder(tenant.tenantId, { dataKey: record.dataKey, sealWith: 'pooled' }),
    ).toEqual([`pooled ${pooledKeyName(tenant.tenantId, record.dataKey as string)}`]);
    expect(await readNotes()).toEqual(before);
    // Its own key is scheduled for deletion: every copy of the old ciphertext is useless, to
    // the tenant's own session too. Its own API key is gone.
    expect((await tenantKeys(tenant.tenantId)).map((k) => k.state)).toEqual(['PendingDeletion']);
    expect(await findApiKeys(tenant.tenantId, new APIGatewayClient({}))).toEqual([]);
    await expect(
      cryptography()
        .forTenant(tenant.tenantId, { kmsKeyArn: old.kmsKeyArn, sealWith: 'own' })
        .decrypt(oldCopy),
    ).rejects.toThrow('Could not decrypt');
    // The other free tenant's session cannot open the re-sealed notes.
    const resealed = (await sealedItems(tenant.tenantId))[0]?.sealed.body as string;
    const bystander = await registryRecord(other.tenantId);
    await expect(
      cryptography()
        .forTenant(other.tenantId, { dataKey: bystander.dataKey, sealWith: 'pooled' })
        .decrypt(resealed),
    ).rejects.toThrow('Could not decrypt');
  }, 120_000);

  it('pauses a long re-sealing before its time runs out and goes on from where it stopped', async () => {
    const big = await seedTenant('big-mover', { tier: 'free' });
    const client = await connect(await accessToken(big), 'modern');
    for (let i = 0; i < 6; i++) {
      await client.callTool({ name: 'notes_create', arguments: { title: `n${i}`, body: `b${i}` } });
    }
    await client.close();
    await localRegistry().beginMigration(big.tenantId, {
      id: randomUUID(),
      from: 'free',
      to: 'standard',
      step: 'resources',
      since: new Date().toISOString(),
    });
    let resealed = 0;
    // Time runs out after two items in each run.
    let left = 0;
    const run = {
      ...deps(async (step) => {
        if (step === 'item-resealed') resealed += 1;
      }),
      remainingMs: () => (left-- > 0 ? 60_000 : 5_000),
    };
    const cursors: Array<string | undefined> = [];
    for (let runs = 0; runs < 20; runs++) {
      left = 2;
      const progress = await continueTierChange(big.tenantId, run);
      if (progress.state === 'done') break;
      if (progress.state === 'waiting' && progress.waitSeconds === 0) {
        cursors.push((await registryRecord(big.tenantId)).migration?.cursor);
      } else if (progress.state === 'waiting') {
        await new Promise((resolve) => setTimeout(resolve, progress.waitSeconds * 1000));
      }
    }

    // Six items, two a run: each pass (the sealing step's, then the retiring step's) paused
    // twice, each time further on; each item re-sealed once (a run goes on from the cursor).
    expect(cursors).toHaveLength(4);
    expect(cursors[0]).toBeDefined();
    expect(cursors[0]).not.toBe(cursors[1]);
    expect(cursors.slice(2)).toEqual(cursors.slice(0, 2));
    expect(resealed).toBe(6);
    const record = await registryRecord(big.tenantId);
    expect(record).toMatchObject({ tier: 'standard' });
    expect(record.migration).toBeUndefined();
    expect(
      await sealedUnder(big.tenantId, { kmsKeyArn: record.kmsKeyArn, sealWith: 'own' }),
    ).toEqual([`own ${record.kmsKeyArn}`]);
  }, 60_000);

  it('refuses an unknown tier, and a second change while one is under way', async () => {
    const admin = localAdmin();
    await expect(admin.changeTier(other.tenantId, 'platinum')).rejects.toBeInstanceOf(
      ValidationError,
    );
    const results = await Promise.allSettled([
      admin.changeTier(other.tenantId, 'standard', { wait: false }),
      admin.changeTier(other.tenantId, 'premium', { wait: false }),
    ]);

    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    // The one that won goes through the provisioner to its end; nothing is left half-moved.
    const won = (
      results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<TenantRecord>
    ).value.migration?.to as TierName;
    const done = await admin.changeTier(other.tenantId, won);
    expect(done).toMatchObject({ tier: won });
    expect(done.migration).toBeUndefined();
    expect(done.dataKey).toBeUndefined();
    expect(done.kmsKeyArn).toBeDefined();
  }, 60_000);
});
