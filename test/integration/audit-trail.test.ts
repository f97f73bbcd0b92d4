import { createHash } from 'node:crypto';
import { STSClient } from '@aws-sdk/client-sts';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { OperatorAudit } from '../../cli/audit.js';
import { AuditTrail } from '../../lambda/shared/audit/audit-trail.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import { TenantDataAccess } from '../../lambda/shared/tenancy/data.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { LOCAL_TABLE_NAMES } from '../../local/tables.js';
import { localAdmin } from '../support/admin.js';
import { auditRecords, platformDb } from '../support/audit.js';
import {
  accessToken,
  addMember,
  callTool,
  postMcp,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';

/** One random action of a tenant's admin, and what its audit record must say. */
type Action = { name: string; args: Record<string, unknown>; outcome: 'ok' | 'refused' };
const ACTIONS: ReadonlyArray<() => Action> = [
  () => ({
    name: 'notes_create',
    args: { title: 'Audit me', body: `body ${Math.random()}` },
    outcome: 'ok',
  }),
  () => ({ name: 'notes_list', args: {}, outcome: 'ok' }),
  () => ({ name: 'tenant_info', args: {}, outcome: 'ok' }),
  () => ({ name: 'whoami', args: {}, outcome: 'ok' }),
  // A tool nobody is served: refused before anything runs, and still one record.
  () => ({ name: 'no_such_tool', args: { id: 'x' }, outcome: 'refused' }),
];

describe('the audit trail', () => {
  let acme: TestUser;
  let globex: TestUser;
  let acmeToken: string;
  let globexToken: string;
  beforeAll(async () => {
    [acme, globex] = await Promise.all([seedTenant('audit-acme'), seedTenant('audit-globex')]);
    [acmeToken, globexToken] = await Promise.all([accessToken(acme), accessToken(globex)]);
  });

  it('records exactly one entry per call, N random calls by two tenants, each in its own tenant', async () => {
    const done: Record<string, Action[]> = { [acme.tenantId]: [], [globex.tenantId]: [] };
    const requestIds: Record<string, string[]> = { [acme.tenantId]: [], [globex.tenantId]: [] };
    for (let i = 0; i < 30; i++) {
      const user = Math.random() < 0.5 ? acme : globex;
      const action = (ACTIONS[Math.floor(Math.random() * ACTIONS.length)] as () => Action)();
      const { reply } = await callTool(
        user === acme ? acmeToken : globexToken,
        action.name,
        action.args,
      );
      expect(reply.status).toBe(200);
      done[user.tenantId]?.push(action);
    }

    for (const user of [acme, globex]) {
      const records = await auditRecords(user.tenantId);
      const expected = done[user.tenantId] as Action[];
      expect(records).toHaveLength(expected.length);
      // Newest first: the calls in the order they were made, each with its outcome.
      expect(records.map((r) => `${r.action}:${r.outcome}`).reverse()).toEqual(
        expected.map((a) => `${a.name}:${a.outcome}`),
      );
      // One actor: the tenant's admin, by pseudonym; every record has its own request id.
      expect(new Set(records.map((r) => r.actor.user)).size).toBe(1);
      expect(records[0]?.actor.user).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
      requestIds[user.tenantId] = records.map((r) => r.requestId as string);
      expect(new Set(requestIds[user.tenantId]).size).toBe(records.length);
    }
    const overlap = (requestIds[acme.tenantId] ?? []).filter((id) =>
      requestIds[globex.tenantId]?.includes(id),
    );
    expect(overlap).toEqual([]);
  });

  it('keeps a digest of the arguments and the ids they name, never a body', async () => {
    const fresh = await seedTenant('audit-digest');
    const token = await accessToken(fresh);
    const args = { title: 'Private', body: 'NEVER-IN-THE-TRAIL-7f3a' };
    const created = toolOutput((await callTool(token, 'notes_create', args)).result);
    await callTool(token, 'notes_get', { id: created.id });
    const member = await addMember(fresh.tenantId, 'member');
    await callTool(token, 'tenant_users_set_role', { userId: member.sub, role: 'admin' });

    const records = await auditRecords(fresh.tenantId);
    expect(JSON.stringify(records)).not.toContain('NEVER-IN-THE-TRAIL');
    expect(JSON.stringify(records)).not.toContain(member.sub);
    const byAction = Object.fromEntries(records.map((r) => [r.action, r]));
    expect(byAction.notes_create?.argsDigest).toBe(
      createHash('sha256').update(JSON.stringify(args)).digest('base64url'),
    );
    expect(byAction.notes_get?.targets).toEqual([created.id]);
    // A member is named by pseudonym, as every log line names people.
    expect(byAction.tenant_users_set_role?.targets).toEqual([
      expect.stringMatching(/^u_[A-Za-z0-9_-]{22}$/),
    ]);
    expect(byAction.tenant_users_set_role?.outcome).toBe('ok');
  });

  it('records a refused attempt: a call with a foreign Origin', async () => {
    const fresh = await seedTenant('audit-refused', { tier: 'free' });
    const token = await accessToken(fresh);
    const foreign = await postMcp(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'notes_list', arguments: {} },
      },
      {
        'mcp-protocol-version': '2025-06-18',
        authorization: `Bearer ${token}`,
        origin: 'https://evil.example',
      },
    );
    expect(foreign.status).toBe(403);
    const records = await auditRecords(fresh.tenantId);
    expect(records).toEqual([
      expect.objectContaining({
        action: 'notes_list',
        outcome: 'refused',
        reason: 'foreign-origin',
      }),
    ]);
  });

  it('records a call of a nameless or absurdly named tool, as what can be said of it', async () => {
    const fresh = await seedTenant('audit-names');
    const token = await accessToken(fresh);
    await callTool(token, '', {});
    await callTool(token, 'x'.repeat(500), {});
    const records = await auditRecords(fresh.tenantId);
    expect(records.map((r) => [r.action, r.outcome])).toEqual([
      ['x'.repeat(100), 'refused'],
      ['tools/call', 'refused'],
    ]);
  });

  it('serves audit_report to admins only: filtered, paged, newest first', async () => {
    const fresh = await seedTenant('audit-report', { tier: 'premium' });
    const token = await accessToken(fresh);
    for (let i = 0; i < 5; i++) await callTool(token, 'notes_list', {});
    await callTool(token, 'no_such_tool', {});
    await auditRecords(fresh.tenantId); // settled

    const first = toolOutput(
      (await callTool(token, 'audit_report', { action: 'notes_list', limit: 2 })).result,
    ) as { records: Array<{ action: string }>; nextCursor?: string };
    expect(first.records.map((r) => r.action)).toEqual(['notes_list', 'notes_list']);
    expect(first.nextCursor).toBeDefined();
    let seen = first.records.length;
    let cursor = first.nextCursor;
    while (cursor) {
      const page = toolOutput(
        (await callTool(token, 'audit_report', { action: 'notes_list', limit: 2, cursor })).result,
      ) as { records: unknown[]; nextCursor?: string };
      seen += page.records.length;
      cursor = page.nextCursor;
    }
    expect(seen).toBe(5);
    const refused = toolOutput(
      (await callTool(token, 'audit_report', { outcome: 'refused' })).result,
    ) as { records: Array<{ action: string }> };
    expect(refused.records.map((r) => r.action)).toEqual(['no_such_tool']);

    const member = await addMember(fresh.tenantId, 'member');
    const asMember = await callTool(await accessToken(member), 'audit_report', {});
    expect(asMember.reply.text).toMatch(/Tool audit_report not found/);
  });

  it("records the operator's actions, through the operator log group and the audit function", async () => {
    const fresh = await seedTenant('audit-operator');
    const operator = new OperatorAudit({
      tableName: LOCAL_TABLE_NAMES.audit,
      logGroup: process.env.AUDIT_LOG_GROUP_NAME,
    });
    await operator.record(fresh.tenantId, 'tier', ['premium']);
    await operator.record(fresh.tenantId, 'suspend');
    const records = await auditRecords(fresh.tenantId);
    expect(records.map((r) => [r.action, r.actor, r.targets])).toEqual([
      ['operator/suspend', { operator: true }, []],
      ['operator/tier', { operator: true }, ['premium']],
    ]);
  });

  it("records the authorizer's denial of a suspended tenant's token in that tenant's trail", async () => {
    const fresh = await seedTenant('audit-denied');
    const token = await accessToken(fresh);
    await localAdmin().suspend(fresh.tenantId);
    const { reply } = await callTool(token, 'whoami', {});
    expect(reply.status).toBe(403);
    const records = await auditRecords(fresh.tenantId);
    expect(records).toEqual([
      expect.objectContaining({
        action: 'authorize',
        outcome: 'refused',
        reason: 'tenant-inactive',
        actor: { user: expect.stringMatching(/^u_/) },
      }),
    ]);
  });

  it('cannot be changed or deleted by anyone, the platform included (resource policy)', async () => {
    const fresh = await seedTenant('audit-immutable');
    await callTool(await accessToken(fresh), 'whoami', {});
    const [record] = await auditRecords(fresh.tenantId);
    const db = platformDb();
    const key = { tenantId: fresh.tenantId, sk: `${record?.time}#` };
    const denied = /AccessDenied|not authorized/;
    await expect(
      db.send(
        new UpdateCommand({
          TableName: LOCAL_TABLE_NAMES.audit,
          Key: key,
          UpdateExpression: 'SET outcome = :o',
          ExpressionAttributeValues: { ':o': 'ok' },
        }),
      ),
    ).rejects.toThrow(denied);
    await expect(
      db.send(new DeleteCommand({ TableName: LOCAL_TABLE_NAMES.audit, Key: key })),
    ).rejects.toThrow(denied);
    // A put over an existing record is refused by the trail's condition: nothing is overwritten.
    const trail = new AuditTrail(createDocumentClient(), LOCAL_TABLE_NAMES.audit);
    // Two records under one id: the second is a delivery repeated, never an overwrite.
    const operatorRecord = (action: string) => ({
      id: 'same',
      record: {
        record: 'mcp-audit/1' as const,
        tenantId: fresh.tenantId,
        time: 1_700_000_000_000,
        actor: { operator: true as const },
        action,
        targets: [],
        outcome: 'ok' as const,
      },
    });
    const again = await trail.append([operatorRecord('operator/suspend')]);
    const twice = await trail.append([operatorRecord('operator/resume')]);
    expect([again, twice]).toEqual([1, 0]);
    const kept = await auditRecords(fresh.tenantId, { action: 'operator/suspend' });
    expect(kept).toHaveLength(1);
    // And a tenant's own session may read its partition, never write it.
    const credentials = new TenantCredentials(new STSClient({}), {
      roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
    });
    const scoped = new TenantDataAccess({
      tableName: LOCAL_TABLE_NAMES.data,
      credentials,
    }).scopedClient({ tenantId: fresh.tenantId });
    await expect(
      scoped.send(
        new PutCommand({
          TableName: LOCAL_TABLE_NAMES.audit,
          Item: { tenantId: fresh.tenantId, sk: '9999#forged', action: 'x' },
        }),
      ),
    ).rejects.toThrow(denied);
    const own = await new AuditTrail(scoped, LOCAL_TABLE_NAMES.audit).report(fresh.tenantId, {});
    expect(own.records.length).toBeGreaterThan(0);
  });
});
