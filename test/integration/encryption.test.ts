import { STSClient } from '@aws-sdk/client-sts';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOTES } from '../../lambda/mcp/features/notes/notes.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TenantCollection } from '../../lambda/shared/tenancy/collection.js';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import { TenantCryptography } from '../../lambda/shared/tenancy/crypto.js';
import { TenantDataAccess } from '../../lambda/shared/tenancy/data.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { localAdmin } from '../support/admin.js';
import { accessToken, connect, seedTenant, type TestUser, toolOutput } from '../support/mcp.js';
import { localRegistry } from '../support/registry.js';
import { clearFaults, injectFault, stats } from '../support/stand-in.js';

const credentials = () =>
  new TenantCredentials(new STSClient({}), { roleArn: LOCAL_DATA_ACCESS_ROLE_ARN });
const raw = (tenantId: string, noteId: string) =>
  createDocumentClient()
    .send(
      new GetCommand({
        TableName: process.env.DATA_TABLE_NAME,
        Key: { tenantId, sk: `NOTE#${noteId}` },
      }),
    )
    .then((r) => r.Item);
/** The tenant's own key (these tenants are premium: a dedicated tier), as the authorizer hands it. */
const keyOf = async (tenantId: string) => ({
  kmsKeyArn: (await localRegistry().getTenant(tenantId))?.kmsKeyArn as string,
  sealWith: 'own' as const,
});
const cryptography = (creds = credentials()) =>
  new TenantCryptography({
    credentials: creds,
    pooledKeyArn: process.env.POOLED_KEY_ARN as string,
  });

describe('notes encrypted under the tenant key', () => {
  let acme: TestUser;
  let globex: TestUser;
  let noteId: string;
  const MARKER = 'ACME-CONFIDENTIAL-7731';

  beforeAll(async () => {
    acme = await seedTenant('acme-enc');
    globex = await seedTenant('globex-enc');
    const client = await connect(await accessToken(acme), 'modern');
    noteId = String(
      toolOutput(
        await client.callTool({ name: 'notes_create', arguments: { title: 'Plan', body: MARKER } }),
      ).id,
    );
    await client.close();
  });

  it('stores the body only as ciphertext, and reads it back for its tenant', async () => {
    const item = await raw(acme.tenantId, noteId);
    const client = await connect(await accessToken(acme), 'modern');
    const note = toolOutput(
      await client.callTool({ name: 'notes_get', arguments: { id: noteId } }),
    );
    await client.close();

    expect(item?.body).toBeUndefined();
    expect(JSON.stringify(item)).not.toContain(MARKER);
    expect(Buffer.from(String(item?.sealed?.body), 'base64').toString('latin1')).not.toContain(
      MARKER,
    );
    expect(note.body).toBe(MARKER);
  });

  it("cannot decrypt one tenant's note with the other tenant's key or session", async () => {
    const ciphertext = String((await raw(acme.tenantId, noteId))?.sealed?.body);
    const crypto = cryptography();

    const acmeKey = await keyOf(acme.tenantId);
    const globexKey = await keyOf(globex.tenantId);

    await expect(crypto.forTenant(globex.tenantId, globexKey).decrypt(ciphertext)).rejects.toThrow(
      'Could not decrypt',
    );
    // The other tenant's session on this tenant's key: KMS itself refuses.
    await expect(
      crypto.forTenant(globex.tenantId, acmeKey).decrypt(ciphertext),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/Could not decrypt/),
      cause: expect.objectContaining({
        message: expect.stringMatching(/AccessDenied|not authorized/),
      }),
    });
    await expect(crypto.forTenant(acme.tenantId, acmeKey).decrypt(ciphertext)).resolves.toBe(
      JSON.stringify(MARKER),
    );
  });

  it('answers a corrupted ciphertext with a generic error and leaves the item as it was', async () => {
    const client = await connect(await accessToken(acme), 'modern');
    const id = String(
      toolOutput(
        await client.callTool({ name: 'notes_create', arguments: { title: 'x', body: 'y' } }),
      ).id,
    );
    await createDocumentClient().send(
      new UpdateCommand({
        TableName: process.env.DATA_TABLE_NAME,
        Key: { tenantId: acme.tenantId, sk: `NOTE#${id}` },
        UpdateExpression: 'SET sealed.body = :c',
        ExpressionAttributeValues: {
          ':c': Buffer.from('not an encrypted message').toString('base64'),
        },
      }),
    );

    const answer = toolOutput(await client.callTool({ name: 'notes_get', arguments: { id } }));
    await client.close();

    expect(answer).toEqual({ error: 'Internal error.' });
    expect((await raw(acme.tenantId, id))?.title).toBe('x');
  });

  it("can no longer decrypt an offboarded tenant's remaining ciphertext", async () => {
    const leaving = await seedTenant('shredded');
    const client = await connect(await accessToken(leaving), 'modern');
    const id = String(
      toolOutput(
        await client.callTool({ name: 'notes_create', arguments: { title: 't', body: 'secret' } }),
      ).id,
    );
    await client.close();
    const copy = String((await raw(leaving.tenantId, id))?.sealed?.body);
    const key = await keyOf(leaving.tenantId);

    await localAdmin().offboard(leaving.tenantId);

    const fresh = cryptography();
    await expect(fresh.forTenant(leaving.tenantId, key).decrypt(copy)).rejects.toThrow(
      'Could not decrypt',
    );
  });

  it('retries a throttled KMS call, and answers generically when KMS keeps failing, storing nothing', async () => {
    const tenant = await seedTenant('throttled');
    const client = await connect(await accessToken(tenant), 'modern');

    await injectFault('kms:GenerateDataKey', { times: 2, when: 'before' });
    const retried = toolOutput(
      await client.callTool({ name: 'notes_create', arguments: { title: 'a', body: 'b' } }),
    );
    await clearFaults();
    const second = await seedTenant('throttled-hard');
    const hardClient = await connect(await accessToken(second), 'modern');
    await injectFault('kms:GenerateDataKey', { times: 3, when: 'before' });
    const failed = toolOutput(
      await hardClient.callTool({ name: 'notes_create', arguments: { title: 'a', body: 'b' } }),
    );
    await clearFaults();
    const hardCount = (
      toolOutput(await hardClient.callTool({ name: 'notes_list', arguments: {} }))
        .notes as unknown[]
    ).length;
    await Promise.all([client.close(), hardClient.close()]);

    expect(retried.id).toBeDefined();
    expect(failed).toEqual({ error: 'Internal error.' });
    expect(hardCount).toBe(0);
  });

  it('keeps KMS calls to a small constant for 1,000 note writes and reads', async () => {
    const tenant = await seedTenant('busy');
    const creds = credentials();
    const notes = new TenantCollection(
      new TenantDataAccess({
        tableName: process.env.DATA_TABLE_NAME as string,
        credentials: creds,
      }).forTenant(tenant),
      cryptography(creds).forTenant(tenant.tenantId, await keyOf(tenant.tenantId)),
      NOTES,
    );
    const before = await stats();

    const ids: string[] = [];
    for (let i = 0; i < 500; i++)
      ids.push(
        (
          await notes.create({
            id: notes.newId(),
            title: `n${i}`,
            body: `body ${i}`,
            tags: [],
            createdBy: tenant.sub,
            createdAt: new Date().toISOString(),
          })
        ).id,
      );
    for (const id of ids) await notes.get(id);

    const after = await stats();
    const calls = (action: string) => (after[action] ?? 0) - (before[action] ?? 0);
    const kmsCalls = calls('kms:GenerateDataKey') + calls('kms:Decrypt') + calls('kms:Encrypt');
    // One data key for 1,000 messages within 5 minutes, and its decryption cached: the figure
    // depends on the cache settings, not on the number of notes.
    expect(kmsCalls).toBeLessThanOrEqual(4);
    process.stdout.write(`KMS calls for 500 writes + 500 reads: ${kmsCalls}\n`);
  });
});
