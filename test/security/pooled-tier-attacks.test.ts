import {
  APIGatewayClient,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
  UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { DescribeKeyCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseUsagePlanIds } from '../../lambda/shared/edge/usage-plans.js';
import { TIERS } from '../../lambda/shared/fair-use/tiers.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import {
  POOLED_KEY_NAMESPACE,
  pooledKeyName,
  TenantCryptography,
} from '../../lambda/shared/tenancy/crypto.js';
import { ENCRYPTION_CONTEXT_KEY, tenantKeyAlias } from '../../lambda/shared/tenancy/isolation.js';
import { tenantKeysOf } from '../../lambda/shared/tenancy/tenant-keys.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { localAdmin } from '../support/admin.js';
import {
  accessToken,
  callTool,
  postMcp,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';
import { localRegistry } from '../support/registry.js';
import { tenantKeys } from '../support/stand-in.js';

/**
 * The pooled free tier attacked from another free tenant's side. Free tenants own no KMS key
 * and no API key: each has a data key of its own, generated and wrapped by the one pooled KMS
 * key with its tenant id as encryption context, and they share the tier's one API key. So what
 * keeps them apart is the pooled key's policy (the context must equal the session's tag), the
 * encryption context bound into every wrapped key and every sealed field, the MCP function's
 * per-tenant counters, and offboarding's deletion of the wrapped key. Each case below tries to
 * get around one of them with what another free tenant (or a bug acting for it) could hold.
 */
const credentials = new TenantCredentials(new STSClient({}), {
  roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
});
/** KMS as a tenant's own session calls it: the data-access role, tagged with that tenant. */
const kmsOf = (tenantId: string) => new KMS({ credentials: () => credentials.forTenant(tenantId) });
const pooledKeyArn = () => process.env.POOLED_KEY_ARN as string;
/** A cipher factory as a fresh MCP environment builds it (nothing cached). */
const cryptography = () => new TenantCryptography({ credentials, pooledKeyArn: pooledKeyArn() });
const pooled = (dataKey: string) => ({ dataKey, sealWith: 'pooled' as const });
const db = createDocumentClient();
const apigw = new APIGatewayClient({});
const noteKey = (tenantId: string, noteId: string) => ({ tenantId, sk: `NOTE#${noteId}` });
const rawNote = async (tenantId: string, noteId: string) =>
  (
    await db.send(
      new GetCommand({ TableName: process.env.DATA_TABLE_NAME, Key: noteKey(tenantId, noteId) }),
    )
  ).Item;
const wrappedKeyOf = async (tenantId: string) =>
  (await localRegistry().getTenant(tenantId))?.dataKey as string;
const LEGACY = { 'mcp-protocol-version': '2025-06-18' };
const listTools = (token: string, id: number) =>
  postMcp(
    { jsonrpc: '2.0', id, method: 'tools/list', params: {} },
    { ...LEGACY, authorization: `Bearer ${token}` },
  );
const createNote = async (token: string, body: string) =>
  String(toolOutput((await callTool(token, 'notes_create', { title: 'Plan', body })).result).id);

describe('the pooled free tier, attacked from another free tenant', () => {
  const VICTIM_MARKER = `victim-secret-${Date.now()}`;
  let victim: TestUser;
  let attacker: TestUser;
  let victimToken: string;
  let attackerToken: string;
  let victimNoteId: string;
  /** The victim's sealed note body, as a copy of the table (or a backup) would hold it. */
  let victimSealed: string;
  let victimWrappedKey: string;
  let attackerWrappedKey: string;

  beforeAll(async () => {
    [victim, attacker] = await Promise.all([
      seedTenant('pool-victim', { tier: 'free' }),
      seedTenant('pool-attacker', { tier: 'free' }),
    ]);
    [victimToken, attackerToken] = await Promise.all([accessToken(victim), accessToken(attacker)]);
    victimNoteId = await createNote(victimToken, VICTIM_MARKER);
    await createNote(attackerToken, 'the attacker’s own note');
    victimSealed = String((await rawNote(victim.tenantId, victimNoteId))?.sealed?.body);
    [victimWrappedKey, attackerWrappedKey] = await Promise.all([
      wrappedKeyOf(victim.tenantId),
      wrappedKeyOf(attacker.tenantId),
    ]);
  });

  it('gives a free tenant a wrapped data key and no KMS key or API key of its own', async () => {
    const record = await localRegistry().getTenant(victim.tenantId);
    const { items: apiKeys = [] } = await apigw.send(new GetApiKeysCommand({ limit: 500 }));
    const alias = await new KMSClient({})
      .send(new DescribeKeyCommand({ KeyId: tenantKeyAlias(victim.tenantId) }))
      .catch((error: Error) => error);

    expect(record).toMatchObject({ tier: 'free', status: 'ACTIVE' });
    expect(record?.dataKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(record?.kmsKeyArn).toBeUndefined();
    expect(record?.apiKeyId).toBeUndefined();
    expect(record?.apiKeyValue).toBeUndefined();
    expect(await tenantKeys(victim.tenantId)).toEqual([]);
    expect(alias).toMatchObject({ name: 'NotFoundException' });
    expect(
      apiKeys.filter(
        (key) => key.name?.includes(victim.tenantId) || key.tags?.TenantId === victim.tenantId,
      ),
    ).toEqual([]);
    // Its sealed fields name its own data key (tenant and wrapped key's fingerprint).
    const header = Buffer.from(victimSealed, 'base64').toString('latin1');
    expect(header).toContain(POOLED_KEY_NAMESPACE);
    expect(header).toContain(pooledKeyName(victim.tenantId, victimWrappedKey));
    expect(header).not.toContain(VICTIM_MARKER);
  });

  it("serves free tenants through the tier's one shared API key, and only through it", async () => {
    const shared = JSON.parse(process.env.POOL_API_KEYS as string).free as string;
    const { items = [] } = await apigw.send(new GetApiKeysCommand({ includeValues: true }));
    const key = items.find((item) => item.value === shared);
    const freePlan = parseUsagePlanIds(process.env.USAGE_PLAN_IDS as string).free;
    const { items: planKeys = [] } = await apigw.send(
      new GetUsagePlanKeysCommand({ usagePlanId: freePlan }),
    );
    expect(key?.id).toBeDefined();
    expect(planKeys.map((k) => k.id)).toContain(key?.id);
    const paying = await seedTenant('pool-paying', { tier: 'standard' });
    const payingToken = await accessToken(paying);
    const setEnabled = (enabled: boolean) =>
      apigw.send(
        new UpdateApiKeyCommand({
          apiKey: key?.id,
          patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }],
        }),
      );

    const before = await listTools(victimToken, 1);
    // With the shared key switched off, both free tenants are refused at the gateway (their
    // requests carry no key of their own to fall back on); a paying tenant is not touched.
    await setEnabled(false);
    let during: Array<Awaited<ReturnType<typeof listTools>>>;
    try {
      during = await Promise.all([
        listTools(victimToken, 2),
        listTools(attackerToken, 2),
        listTools(payingToken, 2),
      ]);
    } finally {
      await setEnabled(true);
    }
    const after = await listTools(victimToken, 3);

    expect(before.status).toBe(200);
    expect(during.map((reply) => reply.status)).toEqual([403, 403, 200]);
    expect(after.status).toBe(200);
  });

  it("refuses a free tenant's session the other's wrapped data key, whatever context it names", async () => {
    const kms = kmsOf(attacker.tenantId);
    const decrypt = (blob: string, context?: Record<string, string>) =>
      kms
        .decrypt({
          KeyId: pooledKeyArn(),
          CiphertextBlob: Buffer.from(blob, 'base64'),
          ...(context ? { EncryptionContext: context } : {}),
        })
        .then(({ Plaintext }) => Plaintext?.length);

    // The control: its own data key, with its own context, opens.
    await expect(decrypt(attackerWrappedKey, { tenantId: attacker.tenantId })).resolves.toBe(32);
    // The victim's context: the pooled key's policy refuses a context that is not the session's.
    await expect(
      decrypt(victimWrappedKey, { [ENCRYPTION_CONTEXT_KEY]: victim.tenantId }),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // Its own context on the victim's blob: allowed to ask, but the blob is bound to the victim's
    // context, so KMS cannot open it.
    await expect(
      decrypt(victimWrappedKey, { [ENCRYPTION_CONTEXT_KEY]: attacker.tenantId }),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    // No context, or the context under another name: the policy wants the tenant's context.
    await expect(decrypt(victimWrappedKey)).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(decrypt(victimWrappedKey, { tenant: victim.tenantId })).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    // Nor may it make a data key in the victim's name.
    await expect(
      kms.generateDataKeyWithoutPlaintext({
        KeyId: pooledKeyArn(),
        KeySpec: 'AES_256',
        EncryptionContext: { [ENCRYPTION_CONTEXT_KEY]: victim.tenantId },
      }),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it("cannot open another free tenant's sealed field with its own data key", async () => {
    const crypto = cryptography();

    await expect(
      crypto.forTenant(victim.tenantId, pooled(victimWrappedKey)).decrypt(victimSealed),
    ).resolves.toBe(JSON.stringify(VICTIM_MARKER));
    await expect(
      crypto.forTenant(attacker.tenantId, pooled(attackerWrappedKey)).decrypt(victimSealed),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/^Could not decrypt/),
      cause: expect.any(Error),
    });
  });

  it("still refuses when a bug builds the attacker's cipher with the victim's wrapped data key", async () => {
    const cipher = cryptography().forTenant(attacker.tenantId, pooled(victimWrappedKey));

    // The unwrap runs in the attacker's session with the attacker's context: KMS cannot open a
    // key wrapped under the victim's context, so nothing is decrypted or sealed with it.
    await expect(cipher.decrypt(victimSealed)).rejects.toMatchObject({
      message: expect.stringMatching(/^Could not decrypt/),
      cause: { name: 'InvalidCiphertextException' },
    });
    await expect(cipher.encrypt('planted')).rejects.toMatchObject({
      message: expect.stringMatching(/^Could not encrypt/),
      cause: { name: 'InvalidCiphertextException' },
    });
  });

  it("answers a generic error for another free tenant's note copied into its own partition, and leaves it", async () => {
    const stolen = {
      ...(await rawNote(victim.tenantId, victimNoteId)),
      tenantId: attacker.tenantId,
    };
    await db.send(new PutCommand({ TableName: process.env.DATA_TABLE_NAME, Item: stolen }));

    const { reply, result } = await callTool(attackerToken, 'notes_get', { id: victimNoteId });

    expect(reply.status).toBe(200);
    expect(toolOutput(result)).toEqual({ error: 'Internal error.' });
    expect(reply.text).not.toContain(VICTIM_MARKER);
    expect(reply.text).not.toContain(victim.tenantId);
    expect(await rawNote(attacker.tenantId, victimNoteId)).toEqual(stolen);
  });

  it('refuses a free tenant past its own rate with a 429 that names no tenant, and serves another free tenant meanwhile', async () => {
    const flooder = await seedTenant('pool-flooder', { tier: 'free' });
    const floodToken = await accessToken(flooder);
    const window = { requests: TIERS.free.throttle.rateLimit * 10, windowSeconds: 10 };
    // The per-tenant window is fixed (it starts on a multiple of 10 s): start the flood early in
    // one, so that it does not straddle two and get twice the allowance.
    const intoWindow = Date.now() % (window.windowSeconds * 1000);
    if (intoWindow > 4_000) {
      await new Promise((resolve) => setTimeout(resolve, window.windowSeconds * 1000 - intoWindow));
    }

    const [flood, neighbour] = await Promise.all([
      Promise.all(Array.from({ length: window.requests + 10 }, (_, i) => listTools(floodToken, i))),
      Promise.all(Array.from({ length: 5 }, (_, i) => listTools(victimToken, i))),
    ]);

    const refused = flood.filter((reply) => reply.status === 429);
    expect(flood.filter((reply) => reply.status === 200)).toHaveLength(window.requests);
    expect(refused).toHaveLength(10);
    for (const reply of refused) {
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(reply.json()).toMatchObject({
        error: {
          message: expect.stringMatching(
            new RegExp(
              `^Too many requests from this organisation: at most ${window.requests} every ${window.windowSeconds} s`,
            ),
          ),
        },
      });
      expect(reply.text).not.toContain(flooder.tenantId);
      expect(reply.text).not.toContain(victim.tenantId);
    }
    // Per tenant, though they share one API key: the neighbour's requests in the same seconds.
    expect(neighbour.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('offboarding deletes the wrapped data key, so the platform hands it to no one again', async () => {
    const leaving = await seedTenant('pool-leaving', { tier: 'free' });
    const token = await accessToken(leaving);
    const noteId = await createNote(token, 'shred me');
    const sealedCopy = String((await rawNote(leaving.tenantId, noteId))?.sealed?.body);
    const savedWrappedKey = await wrappedKeyOf(leaving.tenantId);

    await localAdmin().offboard(leaving.tenantId);

    const record = await localRegistry().getTenant(leaving.tenantId);
    expect(record?.status).toBe('DELETED');
    expect(record?.dataKey).toBeUndefined();
    // Nothing the authorizer could build from the record: no key to seal or open with.
    expect(record && tenantKeysOf(record)).toBeUndefined();
    expect(await rawNote(leaving.tenantId, noteId)).toBeUndefined();
    expect((await listTools(token, 1)).status).toBe(403);
    // The saved wrapped key in any other tenant's session: refused, as before.
    await expect(
      cryptography().forTenant(attacker.tenantId, pooled(savedWrappedKey)).decrypt(sealedCopy),
    ).rejects.toThrow('Could not decrypt');

    // What this does NOT prove, stated so no one reads more into it: crypto-shredding by deleting
    // the wrapped key holds only while no copy of that key survives. KMS cannot know a wrapped
    // key was "deleted", and the pooled key stays enabled for every other free tenant, so a
    // session tagged with the offboarded tenant (which the MCP function's and the provisioner's
    // roles can still assume) opens a saved copy of the wrapped key, and with it a saved copy of
    // the data. Copies outlive the registry item in point-in-time recovery of the registry
    // table (35 days) and in any backup. A dedicated tenant's key, by contrast, is disabled at
    // once and scheduled for deletion. This assertion pins that behaviour: if a change ever
    // makes it fail (the key can no longer be opened), crypto-shredding got stronger and this
    // should become a refusal.
    await expect(
      cryptography().forTenant(leaving.tenantId, pooled(savedWrappedKey)).decrypt(sealedCopy),
    ).resolves.toBe(JSON.stringify('shred me'));
  }, 60_000);
});
