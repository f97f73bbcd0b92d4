import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TenantRegistry } from '../../lambda/shared/registry/registry.js';
import { type Harness, startHarness } from '../../local/harness.js';
import { type LocalProcess, startLocalProcess } from '../../local/process.js';
import { seedTenant } from '../../local/seed.js';
import { callTool } from '../support/mcp.js';

/**
 * DynamoDB going away mid-run: a stack of its own with dynalite on disk, warmed up, then
 * dynalite stopped (by pid) while a tenant keeps calling, then started again on the same port
 * and data. During the outage calls fail with a generic error and write nothing; afterwards
 * the tenant's notes are exactly those it had, and new calls work.
 */
let harness: Harness;
let restarted: LocalProcess | undefined;
let dir: string;
let token: string;
const savedEnv = { ...process.env };

const call = (name: string, args: Record<string, unknown> = {}) =>
  callTool(token, name, args, { url: `${harness.gatewayUrl}/mcp` });
const titles = async () => {
  const { result } = await call('notes_list', { limit: 50 });
  const notes = (result?.structuredContent?.notes ?? []) as Array<{ title: string }>;
  return notes.map((n) => n.title).sort();
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outage-'));
  harness = await startHarness({
    dataPath: join(dir, 'dynamodb'),
    logLevel: 'SILENT',
    mintTokens: true,
  });
  // This file's requests and seeding go to this stack, not the shared one.
  Object.assign(process.env, harness.env);
  const { sub } = await seedTenant(
    new TenantRegistry(createDocumentClient(), harness.env.REGISTRY_TABLE_NAME as string),
    {
      tenantId: 'outage-tenant',
      name: 'Outage',
      tier: 'premium',
      adminEmail: 'admin@outage.example',
    },
  );
  const minted = await fetch(`${harness.issuerUrl}/local/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub }),
  });
  token = ((await minted.json()) as { access_token: string }).access_token;
}, 60_000);

afterAll(async () => {
  await restarted?.stop();
  await harness?.stop();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await rm(dir, { recursive: true, force: true });
});

describe('DynamoDB outage', () => {
  it('fails calls cleanly while dynalite is down, writes nothing, and recovers when it is back', async () => {
    expect(
      (await call('notes_create', { title: 'before', body: 'b' })).result?.isError,
    ).toBeFalsy();
    const dynamodb = harness.processes.find(
      (p) => `http://127.0.0.1:${p.port}` === harness.dynamodbUrl,
    );
    if (!dynamodb) throw new Error('no dynalite process in the harness');

    await dynamodb.stop();
    const during = await Promise.all([
      call('notes_create', { title: 'during', body: 'lost?' }),
      call('notes_list', { limit: 50 }),
    ]);
    restarted = await startLocalProcess('local/dynalite-server.ts', [
      '--port',
      String(dynamodb.port),
      '--path',
      join(dir, 'dynamodb'),
    ]);
    const after = await titles();
    const created = await call('notes_create', { title: 'after', body: 'b' });

    for (const outcome of during) {
      expect(outcome.reply.status).toBe(200);
      expect(outcome.result?.isError).toBe(true);
      expect(outcome.result?.content).toEqual([{ type: 'text', text: 'Internal error.' }]);
      expect(outcome.reply.text).not.toMatch(
        /ECONNREFUSED|127\.0\.0\.1|dynalite|InternalFailure|\bat .+:\d+:\d+/,
      );
    }
    expect(after).toEqual(['before']);
    expect(created.result?.isError).toBeFalsy();
    expect(await titles()).toEqual(['after', 'before']);
  }, 60_000);
});
