import { afterEach, describe, expect, it } from 'vitest';
import { accessToken, callTool, seedTenant, type TestUser } from '../support/mcp.js';
import { clearFaults, injectFault, stats } from '../support/stand-in.js';

/**
 * Fault injection on the shared local stack: KMS throttling and failing, STS failing. Each time
 * the caller gets a generic error (no AWS error name, no stack, no tenant other than its own),
 * nothing half-written becomes visible, and the same call succeeds once the fault ends. Each
 * case uses a fresh tenant, so nothing cached from earlier calls hides the fault. DynamoDB
 * going away is in dynamodb-outage.test.ts, the provisioner crashing in onboarding.test.ts.
 */
const notesOf = async (token: string) =>
  ((await callTool(token, 'notes_list', { limit: 50 })).result?.structuredContent?.notes ??
    []) as Array<{
    id: string;
  }>;

/** A failed call: a tool error with a generic message, and nothing that names AWS internals. */
function expectGenericFailure(outcome: Awaited<ReturnType<typeof callTool>>, user: TestUser) {
  expect(outcome.reply.status).toBe(200);
  expect(outcome.result?.isError).toBe(true);
  // The one message a caller gets for anything that is not its own fault.
  expect(outcome.result?.content).toEqual([{ type: 'text', text: 'Internal error.' }]);
  const text = outcome.reply.text;
  expect(text).not.toMatch(/Throttling|InternalFailure|injected|stand-in|kms|sts|\bat .+:\d+:\d+/i);
  expect(text).not.toContain(user.tenantId);
}

afterEach(clearFaults);

describe('faults in the AWS services, seen from a tool call', () => {
  it('KMS throttling every attempt: notes_create fails cleanly, stores nothing, and works after', async () => {
    const user = await seedTenant('kms-throttled');
    const token = await accessToken(user);
    await injectFault('kms:GenerateDataKey', { times: 50, when: 'before', kind: 'throttle' });

    const failed = await callTool(token, 'notes_create', { title: 'during', body: 'secret' });
    const duringFault = await notesOf(token);
    const throttled = (await stats())['fault:kms:GenerateDataKey'] ?? 0;
    await clearFaults();
    const retried = await callTool(token, 'notes_create', { title: 'after', body: 'secret' });

    expect(throttled).toBeGreaterThanOrEqual(1);
    expectGenericFailure(failed, user);
    expect(duringFault).toEqual([]);
    expect(retried.result?.isError).toBeFalsy();
    expect(await notesOf(token)).toHaveLength(1);
  });

  it('KMS failing on decryption: notes_get fails cleanly, the note is intact, and reads after', async () => {
    const user = await seedTenant('kms-failing');
    const token = await accessToken(user);
    const created = await callTool(token, 'notes_create', { title: 'kept', body: 'the body' });
    const id = String(created.result?.structuredContent?.id);
    await injectFault('kms:Decrypt', { times: 50, when: 'before' });

    const failed = await callTool(token, 'notes_get', { id });
    const decryptFaults = (await stats())['fault:kms:Decrypt'] ?? 0;
    await clearFaults();
    const read = await callTool(token, 'notes_get', { id });

    // Encryption materials are cached for writes; reading a message asks KMS for its data key.
    expect(decryptFaults).toBeGreaterThanOrEqual(1);
    expectGenericFailure(failed, user);
    expect(read.result?.structuredContent).toMatchObject({ id, title: 'kept', body: 'the body' });
  });

  it('STS failing: a tenant without cached credentials gets a generic error, then service', async () => {
    const user = await seedTenant('sts-failing');
    const token = await accessToken(user);
    await injectFault('sts:AssumeRole', { times: 50, when: 'before' });

    const failed = await callTool(token, 'notes_create', { title: 'during', body: 'x' });
    const assumed = (await stats())['fault:sts:AssumeRole'] ?? 0;
    await clearFaults();
    const retried = await callTool(token, 'notes_create', { title: 'after', body: 'x' });

    expect(assumed).toBeGreaterThanOrEqual(1);
    expectGenericFailure(failed, user);
    expect(retried.result?.isError).toBeFalsy();
    expect(await notesOf(token)).toHaveLength(1);
  });
});
