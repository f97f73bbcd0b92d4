import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  APIGatewayClient,
  GetApiKeyCommand,
  GetUsagePlanKeysCommand,
} from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { parseUsagePlanIds } from '../../lambda/shared/edge/usage-plans.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { PROJECT_ROOT } from '../../local/process.js';
import { waitForStatus } from '../../local/seed.js';
import { localAdmin } from '../support/admin.js';
import {
  accessToken,
  addMember,
  callTool,
  connect,
  mintTokens,
  postMcp,
  seedTenant,
} from '../support/mcp.js';
import { localRegistry, putTenantItem, uniqueTenantId } from '../support/registry.js';
import { clearFaults, injectFault, tenantKeys } from '../support/stand-in.js';

const admin = localAdmin();
const registry = localRegistry();
const apigw = new APIGatewayClient({});
const _cognito = new CognitoIdentityProviderClient({});
const cacheExpiry = () =>
  new Promise((resolve) => setTimeout(resolve, inject('authorizerCacheTtlSeconds') * 1000 + 200));
const whoami = (token: string) =>
  postMcp(
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
    { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
  );
const planOf = async (apiKeyId: string) => {
  for (const [tier, planId] of Object.entries(
    parseUsagePlanIds(process.env.USAGE_PLAN_IDS as string),
  )) {
    const { items = [] } = await apigw.send(new GetUsagePlanKeysCommand({ usagePlanId: planId }));
    if (items.some((k) => k.id === apiKeyId)) return tier;
  }
  return undefined;
};

describe('tier change', () => {
  it('gives an upgraded free tenant its own API key in the new plan, shown in the next token and request', async () => {
    const tenant = await seedTenant('upgrader', { tier: 'free' });
    // A free tenant shares its tier's key: none of its own.
    expect((await registry.getTenant(tenant.tenantId))?.apiKeyId).toBeUndefined();
    const before = await connect(await accessToken(tenant), 'modern');
    const freeTools = (await before.listTools()).tools.map((t) => t.name);
    await before.close();

    await admin.changeTier(tenant.tenantId, 'premium');
    await cacheExpiry();
    const { apiKeyId } = (await registry.getTenant(tenant.tenantId)) ?? {};

    const { access_token } = await mintTokens(tenant.sub);
    const claims = JSON.parse(
      Buffer.from(access_token.split('.')[1] as string, 'base64url').toString(),
    );
    const after = await connect(access_token, 'modern');
    const premiumTools = (await after.listTools()).tools.map((t) => t.name);
    await after.close();

    expect(freeTools).not.toContain('notes_search');
    expect(premiumTools).toContain('notes_search');
    expect(claims['custom:tenantTier']).toBe('premium');
    expect(await planOf(apiKeyId as string)).toBe('premium');
  });
});

describe('suspension', () => {
  it("refuses a suspended tenant's requests at once and its sign-ins, and resumes", async () => {
    const tenant = await seedTenant('suspendee');
    const token = await accessToken(tenant);
    expect((await whoami(token)).status).toBe(200);

    await admin.suspend(tenant.tenantId);
    const whileCached = await whoami(token);
    const signIn = await mintTokens(tenant.sub).then(
      () => 'token issued',
      (error: Error) => error.message,
    );
    await admin.resume(tenant.tenantId);
    await cacheExpiry();
    const resumed = await whoami(token);

    // The disabled API key stops requests even while the authorizer's Allow is cached.
    expect(whileCached.status).toBe(403);
    expect(signIn).toMatch(/does not have access/);
    expect(resumed.status).toBe(200);
  });
});

describe('offboarding', () => {
  afterEach(clearFaults);

  it('leaves nothing of the tenant but its DELETED record, and touches no other tenant', async () => {
    const leaving = await seedTenant('leaving');
    const staying = await seedTenant('staying');
    for (const user of [leaving, staying]) {
      const client = await connect(await accessToken(user), 'legacy');
      for (let i = 0; i < 3; i++) {
        await client.callTool({
          name: 'notes_create',
          arguments: { title: `n${i}`, body: user.tenantId },
        });
      }
      await client.close();
    }
    const leavingRecord = await registry.getTenant(leaving.tenantId);
    const stayingRecord = await registry.getTenant(staying.tenantId);

    await admin.offboard(leaving.tenantId);

    const items = async (tenantId: string) =>
      (
        await createDocumentClient().send(
          new QueryCommand({
            TableName: process.env.DATA_TABLE_NAME,
            KeyConditionExpression: 'tenantId = :t',
            ExpressionAttributeValues: { ':t': tenantId },
          }),
        )
      ).Items ?? [];
    expect((await registry.getTenant(leaving.tenantId))?.status).toBe('DELETED');
    expect(await registry.listMembers(leaving.tenantId)).toEqual([]);
    expect(await items(leaving.tenantId)).toEqual([]);
    await expect(mintTokens(leaving.sub)).rejects.toThrow(/disabled/);
    await expect(
      apigw.send(new GetApiKeyCommand({ apiKey: leavingRecord?.apiKeyId })),
    ).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    expect((await tenantKeys(leaving.tenantId)).map((k) => k.state)).toEqual(['PendingDeletion']);

    expect(await items(staying.tenantId)).toHaveLength(3);
    expect(await registry.listMembers(staying.tenantId)).toHaveLength(1);
    expect((await tenantKeys(staying.tenantId)).map((k) => k.state)).toEqual(['Enabled']);
    expect(await planOf(stayingRecord?.apiKeyId as string)).toBe('standard');
    expect((await whoami(await accessToken(staying))).status).toBe(200);
  });

  it('cuts access before it deletes: nothing a racing writer with a live token stores survives', async () => {
    const tenant = await seedTenant('racing-writer');
    const token = await accessToken(tenant);
    let writing = true;
    const statuses: number[] = [];
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const { reply } = await callTool(token, 'notes_create', {
          title: `racing ${i}`,
          body: 'written while offboarding runs',
          tags: ['plaintext-tag'],
        });
        statuses.push(reply.status);
      }
    })();
    while (!statuses.includes(200)) await new Promise((resolve) => setTimeout(resolve, 20));

    // A membership that lands after the cut (an invitation admitted just before it) is cut too.
    let late: Promise<unknown> = Promise.resolve();
    await localAdmin((step) => {
      if (step.startsWith('Waiting')) {
        late = registry.createMembership({
          userSub: crypto.randomUUID(),
          tenantId: tenant.tenantId,
          role: 'admin',
        });
      }
    }).offboard(tenant.tenantId);
    await late;
    // The same token keeps trying after the tenant is DELETED.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    writing = false;
    await writer;

    const items = await createDocumentClient().send(
      new QueryCommand({
        TableName: process.env.DATA_TABLE_NAME,
        KeyConditionExpression: 'tenantId = :t',
        ExpressionAttributeValues: { ':t': tenant.tenantId },
      }),
    );
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe(403);
    expect(items.Items).toEqual([]);
    expect(await registry.listMembers(tenant.tenantId)).toEqual([]);
  });

  it('resumes after a failure part way and finishes', async () => {
    const tenant = await seedTenant('interrupted');
    await injectFault('cognito-idp:AdminDisableUser', { times: 3, when: 'before' });

    await expect(admin.offboard(tenant.tenantId)).rejects.toThrow();
    expect((await registry.getTenant(tenant.tenantId))?.status).toBe('OFFBOARDING');
    await clearFaults();
    const steps: string[] = [];
    await localAdmin((step) => steps.push(step)).offboard(tenant.tenantId);
    await localAdmin().offboard(tenant.tenantId);

    expect((await registry.getTenant(tenant.tenantId))?.status).toBe('DELETED');
    expect(steps).toContain('Status: DELETED');
  });
});

describe('tenant CLI', () => {
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'cli/tenant.ts', ...args],
        { cwd: PROJECT_ROOT, env: process.env },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('lists and shows tenants', async () => {
    const tenant = await seedTenant('cli-shown');

    const list = await cli('list');
    const show = await cli('show', tenant.tenantId);

    expect(list.code).toBe(0);
    expect(list.stdout).toContain(tenant.tenantId);
    expect(show.stdout).toMatch(/Status: +ACTIVE/);
    expect(show.stdout).toContain(`admin@${tenant.tenantId}.example`);
  });

  it.each([
    [['show', 'no-such-tenant'], /Unknown tenant/],
    [['tier', 'no-such-tenant', 'premium'], /Unknown tenant/],
    [['offboard', 'no-such-tenant', '--yes'], /Unknown tenant/],
    [['resume', 'no-such-tenant'], /Unknown tenant/],
    [['offboard', 'some-tenant'], /--yes/],
    [['frobnicate'], /Unknown command/],
  ])('answers %j with a clear message and exit code 2', async (args, message) => {
    const result = await cli(...args);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('changes a role and removes a member by e-mail, refusing bad input and the last admin', async () => {
    const tenant = await seedTenant('cli-members');
    const member = await addMember(tenant.tenantId, 'member');
    const email = (await registry.getMembership(member.sub))?.email as string;
    const ownerEmail = `admin@${tenant.tenantId}.example`;

    const refusals = [
      await cli('role', 'no-such-tenant', email, 'admin'),
      await cli('role', tenant.tenantId, email, 'owner'),
      await cli('role', tenant.tenantId, 'nobody@nowhere.example', 'admin'),
      await cli('remove', tenant.tenantId, email),
      await cli('remove', 'no-such-tenant', email, '--yes'),
      await cli('invite', tenant.tenantId, 'not-an-e-mail'),
      await cli('invite', tenant.tenantId, `new@${tenant.tenantId}.example`, '--role', 'owner'),
    ];
    const lastAdmin = await cli('remove', tenant.tenantId, ownerEmail, '--yes');
    const promoted = await cli('role', tenant.tenantId, email, 'admin');
    const removed = await cli('remove', tenant.tenantId, ownerEmail, '--yes');

    expect(refusals.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(refusals.map((r) => r.stderr).join('')).toMatch(
      /Unknown tenant[\s\S]*Role must be admin or member[\s\S]*No member of[\s\S]*--yes[\s\S]*Unknown tenant[\s\S]*Invalid e-mail address[\s\S]*Role must be admin or member/,
    );
    expect(refusals.map((r) => r.stderr).join('')).not.toMatch(/\bat .+:\d+:\d+/);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.stderr).toMatch(/at least one admin/);
    expect(promoted.code).toBe(0);
    expect(removed.code).toBe(0);
    expect(await registry.listMembers(tenant.tenantId)).toEqual([
      expect.objectContaining({ userSub: member.sub, role: 'admin' }),
    ]);
  });

  it('prints names and addresses a tenant chose with their control characters escaped', async () => {
    // A record written before names had one rule (issue 16): the CLI must not trust it either.
    const tenantId = uniqueTenantId('cli-escapes');
    await putTenantItem({
      tenantId,
      name: 'Evil\u001b]0;owned\u0007\u001b[2J\u202eCorp',
      tier: 'free',
      status: 'SUSPENDED',
      createdAt: new Date().toISOString(),
    });
    await registry.createMembership({
      userSub: crypto.randomUUID(),
      tenantId,
      role: 'admin',
      email: 'x\u001b[31m@evil.example',
    });

    const list = await cli('list');
    const show = await cli('show', tenantId);

    for (const output of [list.stdout, show.stdout]) {
      expect(output).not.toMatch(/[^\P{Cc}\n]|\p{Cf}/u);
    }
    expect(list.stdout).toContain('Evil\\u001b]0;owned\\u0007\\u001b[2J\\u202eCorp');
    expect(show.stdout).toContain('x\\u001b[31m@evil.example');
  });

  it('prints its usage for --help (exit 0) and refuses an unknown option (exit 2), never with a stack trace', async () => {
    const help = await cli('--help');
    const bogus = await cli('list', '--bogus');

    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run tenant/);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--bogus/);
    expect(bogus.stderr).toMatch(/Usage: npm run tenant/);
    expect(bogus.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('reads the local stack from --data DIR with --local', async () => {
    const tenant = await seedTenant('cli-local-data');
    const dir = await mkdtemp(join(tmpdir(), 'cli-data-'));
    try {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([, value]) => value !== undefined),
      );
      await writeFile(join(dir, 'harness.json'), JSON.stringify(env));
      const listed = await cli('list', '--local', '--data', dir);
      const missing = await cli('list', '--local', '--data', join(dir, 'nothing-here'));

      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain(tenant.tenantId);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/No local stack is running/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('queues a tenant stuck in PROVISIONING again and refuses any other', async () => {
    const stuck = uniqueTenantId('cli-stuck');
    await registry.createTenant({
      tenantId: stuck,
      name: 'Stuck',
      tier: 'free',
      status: 'PROVISIONING',
    });
    const active = await seedTenant('cli-active');

    const requeued = await cli('reprovision', stuck);
    const refused = await cli('reprovision', active.tenantId);

    expect(requeued.code).toBe(0);
    await waitForStatus(registry, stuck, 'ACTIVE');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is ACTIVE, not PROVISIONING/);
  });

  it('refuses an invalid tier with exit code 2 and changes nothing', async () => {
    const tenant = await seedTenant('cli-tier');

    const result = await cli('tier', tenant.tenantId, 'platinum');

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Tier must be one of free, standard, premium/);
    expect((await registry.getTenant(tenant.tenantId))?.tier).toBe('standard');
  });
});
