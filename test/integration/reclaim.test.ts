import { SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { UsageMeter } from '../../lambda/shared/fair-use/usage-meter.js';
import { USAGE_RECORD } from '../../lambda/shared/fair-use/usage-record.js';
import {
  type ReclaimReport,
  type ReclaimSettings,
  reclaimIdleTenants,
} from '../../lambda/shared/lifecycle/reclaim.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { logger } from '../../lambda/shared/platform/observability.js';
import { lambdaContext } from '../../local/lambda-context.js';
import type { SentEmail } from '../../local/stand-ins/ses.js';
import { localAdmin } from '../support/admin.js';
import { accessToken, callTool, harness, seedTenant, type TestUser } from '../support/mcp.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';
import { meteringSettled } from '../support/stand-in.js';

const DAY = 86_400_000;
const SENDER = 'no-reply@reclaim.example';
const db = createDocumentClient();
const registry = localRegistry();
const registryTableName = process.env.REGISTRY_TABLE_NAME as string;
const usage = new UsageMeter(db, process.env.USAGE_TABLE_NAME as string);
const ses = new SESv2Client({});

/** One reclaimer run against the local stack, at `now`, as the scheduled function runs it. */
const run = (now: Date, settings: Partial<ReclaimSettings> = {}): Promise<ReclaimReport> =>
  reclaimIdleTenants(
    {
      db,
      registryTableName,
      registry,
      usage,
      ses,
      offboard: (tenantId) => localAdmin().offboard(tenantId),
      logger,
      now: () => now,
    },
    { idleDays: 90, noticeDays: 14, sender: SENDER, maxTenantsPerRun: 1000, ...settings },
  );

const standIn = (path: string, init?: RequestInit) =>
  fetch(`${harness().awsUrl}/__stand-in/ses/${path}`, init);
/** What the operator does in the SES console: verifies the sender's identity. */
const verifySender = (identity: string) =>
  standIn('identities', { method: 'POST', body: JSON.stringify({ identity }) });
const mailTo = async (user: TestUser): Promise<SentEmail[]> =>
  (await (
    await standIn(`outbox?to=${encodeURIComponent(`admin@${user.tenantId}.example`)}`)
  ).json()) as SentEmail[];

/** A tenant that signed up `days` ago, as the registry would hold it then. */
async function signedUpDaysAgo(user: TestUser, days: number): Promise<void> {
  const at = new Date(Date.now() - days * DAY).toISOString();
  await db.send(
    new UpdateCommand({
      TableName: registryTableName,
      Key: { pk: `TENANT#${user.tenantId}`, sk: 'TENANT' },
      UpdateExpression: 'SET createdAt = :at, updatedAt = :at',
      ExpressionAttributeValues: { ':at': at },
    }),
  );
}

/** Tool calls of `days` ago, metered as the metering function meters a log delivery. */
async function calledDaysAgo(user: TestUser, days: number): Promise<void> {
  await usage.apply(`reclaim-test-${user.tenantId}-${days}`, [
    {
      record: USAGE_RECORD,
      tenantId: user.tenantId,
      name: 'notes_create',
      outcome: 'ok',
      durationMs: 12,
      time: Date.now() - days * DAY,
    },
  ]);
}

const dataItems = async (tenantId: string) =>
  (
    await db.send(
      new QueryCommand({
        TableName: process.env.DATA_TABLE_NAME,
        KeyConditionExpression: 'tenantId = :t',
        ExpressionAttributeValues: { ':t': tenantId },
      }),
    )
  ).Items ?? [];
const status = async (user: TestUser) => (await registry.getTenant(user.tenantId))?.status;
const notice = async (user: TestUser) =>
  (
    await db.send(
      new GetCommand({
        TableName: registryTableName,
        Key: { pk: `RECLAIM#${user.tenantId}`, sk: 'NOTICE' },
      }),
    )
  ).Item;

describe('last tool call, from what metering keeps', () => {
  it('is the end of the latest day with a metered call, whatever order deliveries came in', async () => {
    const user = { tenantId: uniqueTenantId('last-call'), sub: 'none', role: 'admin' as const };
    const now = Date.now();
    await calledDaysAgo(user, 40);
    await calledDaysAgo(user, 45);
    const day40 = new Date(now - 40 * DAY).toISOString().slice(0, 10);

    expect(await usage.lastCallEnd(user.tenantId, now - 60 * DAY, now)).toBe(
      Date.parse(`${day40}T00:00:00.000Z`) + DAY,
    );
    expect(await usage.lastCallEnd(user.tenantId, now, now)).toBeUndefined();
  });

  it('counts a month metered before the days were kept as used to its last day', async () => {
    const tenantId = uniqueTenantId('legacy-meter');
    await db.send(
      new PutCommand({
        TableName: process.env.USAGE_TABLE_NAME,
        Item: { pk: `BUDGET#${tenantId}`, sk: '2026-03#metered', metered: 7 },
      }),
    );

    expect(await usage.lastCallEnd(tenantId, Date.parse('2026-02-10T00:00:00Z'), Date.now())).toBe(
      Date.parse('2026-04-01T00:00:00Z'),
    );
  });
});

describe('reclaiming idle free tenants', () => {
  it('notices and reclaims no one when no sender is configured', async () => {
    const idle = await seedTenant('unsent', { tier: 'free' });
    await signedUpDaysAgo(idle, 200);

    const report = await run(new Date(Date.now() + 30 * DAY), { sender: undefined });

    expect(report.disabled).toMatch(/no notice sender/);
    expect(report.noticed + report.reclaimed).toBe(0);
    expect(await mailTo(idle)).toEqual([]);
    expect(await notice(idle)).toBeUndefined();
    expect(await status(idle)).toBe('ACTIVE');
  });

  it('records no notice when SES refuses the sender, so it never reclaims that tenant', async () => {
    const idle = await seedTenant('unverified', { tier: 'free' });
    await signedUpDaysAgo(idle, 200);
    const sender = 'no-reply@not-verified.example';

    const report = await run(new Date(), { sender });
    const later = await run(new Date(Date.now() + 30 * DAY), { sender });

    expect(report.failed).toBeGreaterThanOrEqual(1);
    expect(later.reclaimed).toBe(0);
    expect(await mailTo(idle)).toEqual([]);
    expect(await notice(idle)).toBeUndefined();
    expect(await status(idle)).toBe('ACTIVE');
  });

  it('notices an idle free tenant once, then offboards it after the notice period; active and paid tenants are untouched', async () => {
    await verifySender(SENDER);
    const idle = await seedTenant('idle-free', { tier: 'free' });
    const comeback = await seedTenant('comeback-free', { tier: 'free' });
    const active = await seedTenant('active-free', { tier: 'free' });
    const paid = await seedTenant('idle-paid', { tier: 'standard' });
    for (const user of [idle, comeback, active, paid]) await signedUpDaysAgo(user, 200);
    // The idle tenant last called 100 days ago and left two items behind.
    await calledDaysAgo(idle, 100);
    for (const sk of ['note#1', 'note#2']) {
      await db.send(
        new PutCommand({
          TableName: process.env.DATA_TABLE_NAME,
          Item: { tenantId: idle.tenantId, sk, title: 'left behind' },
        }),
      );
    }
    // The active one called today.
    expect((await callTool(await accessToken(active), 'whoami')).reply.status).toBe(200);
    await meteringSettled();
    const now = new Date();

    const first = await run(now);
    const again = await run(now);

    expect(first.noticed).toBeGreaterThanOrEqual(2);
    expect(again.noticed).toBe(0);
    const [sent, ...more] = await mailTo(idle);
    expect(more).toEqual([]);
    expect(sent?.from).toBe(SENDER);
    expect(sent?.to).toEqual([`admin@${idle.tenantId}.example`]);
    const removal = new Date(now.getTime() + 14 * DAY).toISOString().slice(0, 10);
    expect(sent?.subject).toContain(removal);
    expect(sent?.text).toContain(`"idle-free Inc." (id ${idle.tenantId})`);
    expect(sent?.text).toMatch(/call any tool/);
    for (const other of [comeback, active, paid]) expect(sent?.text).not.toContain(other.tenantId);
    expect(await mailTo(comeback)).toHaveLength(1);
    expect(await mailTo(active)).toEqual([]);
    expect(await mailTo(paid)).toEqual([]);

    // The comeback tenant calls a tool after its notice: that keeps it.
    expect((await callTool(await accessToken(comeback), 'whoami')).reply.status).toBe(200);
    await meteringSettled();

    const during = await run(new Date(now.getTime() + 7 * DAY));
    expect(during.reclaimed).toBe(0);
    expect(await status(idle)).toBe('ACTIVE');

    const after = await run(new Date(now.getTime() + 15 * DAY));

    expect(after.reclaimed).toBeGreaterThanOrEqual(1);
    expect(await status(idle)).toBe('DELETED');
    expect(await dataItems(idle.tenantId)).toEqual([]);
    expect(await registry.listMembers(idle.tenantId)).toEqual([]);
    expect(await notice(idle)).toMatchObject({ state: 'SENT', reclaimedAt: expect.any(String) });
    expect(await status(comeback)).toBe('ACTIVE');
    expect(await notice(comeback)).toBeUndefined();
    expect(await status(active)).toBe('ACTIVE');
    expect(await status(paid)).toBe('ACTIVE');
    expect((await callTool(await accessToken(active), 'whoami')).reply.status).toBe(200);
    // No second notice to anyone.
    expect(await mailTo(idle)).toHaveLength(1);
    expect(await mailTo(comeback)).toHaveLength(1);
  }, 120_000);

  it('runs as the scheduled function, with the configuration CDK gives it', async () => {
    await verifySender(SENDER);
    const idle = await seedTenant('scheduled', { tier: 'free' });
    await signedUpDaysAgo(idle, 120);
    vi.stubEnv('NOTICE_SENDER', SENDER);
    vi.stubEnv('IDLE_DAYS', '90');
    vi.stubEnv('NOTICE_DAYS', '14');
    const { handler } = await import('../../lambda/reclaimer/index.js').finally(() =>
      vi.unstubAllEnvs(),
    );

    const report = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent,
      lambdaContext('reclaimer', 15 * 60_000),
    );

    expect(report.noticed).toBeGreaterThanOrEqual(1);
    expect(await mailTo(idle)).toHaveLength(1);
    expect(await notice(idle)).toMatchObject({ state: 'SENT', recipients: 1 });
  });
});
