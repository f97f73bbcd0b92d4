import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, inject, it } from 'vitest';
import { localAdmin } from '../support/admin.js';
import {
  authorizationCode,
  PASSWORD,
  pkce,
  refresh,
  signInForTokens,
  signUpThroughPages,
} from '../support/managed-login.js';
import {
  accessToken,
  addMember,
  callTool,
  postMcp,
  seedTenant,
  type TestUser,
} from '../support/mcp.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';

/**
 * Removing and demoting members (issue 16): a changed member's existing tokens lose the access
 * within the authorizer's cache time, their refresh tokens are refused, and no organisation is
 * ever left without an admin.
 */
const registry = localRegistry();
const admin = localAdmin();
const cognito = new CognitoIdentityProviderClient({});
const cacheExpiry = () =>
  new Promise((resolve) => setTimeout(resolve, inject('authorizerCacheTtlSeconds') * 1000 + 200));
const whoami = (token: string) => callTool(token, 'whoami');
const toolsOf = async (token: string) => {
  const reply = await postMcp(
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
  );
  return (reply.json() as { result: { tools: Array<{ name: string }> } }).result.tools.map(
    (tool) => tool.name,
  );
};
/** A call the server did not serve: a JSON-RPC error (an unknown or hidden tool) or a tool error. */
const refused = (call: Awaited<ReturnType<typeof callTool>>) =>
  call.result?.isError === true || (call.reply.json() as { error?: unknown }).error !== undefined;
const errorText = (result: Awaited<ReturnType<typeof callTool>>) =>
  result.result?.isError ? result.result.content?.[0]?.text : undefined;

/** A founder who signed up through the pages (so has a password and refresh tokens). */
async function founder(prefix: string) {
  const email = `founder@${uniqueTenantId(prefix)}.example`;
  await signUpThroughPages(email, `${prefix} Org`, pkce().challenge);
  const tokens = await signInForTokens(email);
  const me = (await whoami(tokens.access_token)).result?.structuredContent as {
    tenantId: string;
    userId: string;
  };
  const sub = (await registry.listMembers(me.tenantId))[0]?.userSub as string;
  return { email, tokens, tenantId: me.tenantId, sub };
}

describe('demoting an admin', () => {
  it('takes the admin tools from their current token within the cache time and refuses their refresh', async () => {
    const person = await founder('demoted');
    const other = await addMember(person.tenantId, 'admin');
    expect(await toolsOf(person.tokens.access_token)).toContain('tenant_users_remove');

    const demoted = await callTool(await accessToken(other), 'tenant_users_set_role', {
      userId: person.sub,
      role: 'member',
    });
    await cacheExpiry();

    expect(demoted.result?.structuredContent).toMatchObject({ userId: person.sub, role: 'member' });
    // The old token still verifies, but the registry's role applies: no admin tool, listed or called.
    expect(await toolsOf(person.tokens.access_token)).not.toContain('tenant_users_remove');
    expect(refused(await callTool(person.tokens.access_token, 'tenant_users_list'))).toBe(true);
    expect(await refresh(person.tokens.refresh_token)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    // Signing in again gives a member's token.
    const again = await signInForTokens(person.email);
    expect((await whoami(again.access_token)).result?.structuredContent).toMatchObject({
      role: 'member',
    });
  });
});

describe('removing a member', () => {
  it('refuses their current token within the cache time, their refresh and their sign-in, then frees the address', async () => {
    const person = await founder('removed');
    const other = await addMember(person.tenantId, 'admin');
    expect((await whoami(person.tokens.access_token)).reply.status).toBe(200);

    const removed = await callTool(await accessToken(other), 'tenant_users_remove', {
      userId: person.sub,
    });
    await cacheExpiry();

    expect(removed.result?.structuredContent).toEqual({ userId: person.sub, removed: true });
    expect((await whoami(person.tokens.access_token)).reply.status).toBe(403);
    expect((await refresh(person.tokens.refresh_token)).status).toBe(400);
    expect((await authorizationCode(person.email, PASSWORD, pkce().challenge)).location).toBeNull();
    await expect(
      cognito.send(
        new AdminGetUserCommand({ UserPoolId: process.env.USER_POOL_ID, Username: person.email }),
      ),
    ).rejects.toMatchObject({ name: 'UserNotFoundException' });
    expect(await registry.getMembership(person.sub)).toBeUndefined();
    // The address is free: the person can sign up on their own (or be invited) again.
    await signUpThroughPages(person.email, 'Fresh Start', pkce().challenge);
  });
});

describe('the last admin', () => {
  it('cannot be demoted or removed, by the tools or the operator', async () => {
    const owner = await seedTenant('last-admin');
    const token = await accessToken(owner);

    const demote = await callTool(token, 'tenant_users_set_role', {
      userId: owner.sub,
      role: 'member',
    });
    const remove = await callTool(token, 'tenant_users_remove', { userId: owner.sub });

    expect(errorText(demote)).toBe('An organisation must keep at least one admin.');
    expect(errorText(remove)).toBe('An organisation must keep at least one admin.');
    await expect(admin.setRole(owner.tenantId, owner.sub, 'member')).rejects.toThrow(
      /at least one admin/,
    );
    await expect(admin.removeMember(owner.tenantId, owner.sub)).rejects.toThrow(
      /at least one admin/,
    );
    expect(await registry.getMembership(owner.sub)).toMatchObject({ role: 'admin' });
    expect((await whoami(token)).reply.status).toBe(200);
  });

  it('survives two admins demoting and removing each other at once', async () => {
    for (let round = 0; round < 5; round += 1) {
      const a = await seedTenant('admin-race');
      const b = await addMember(a.tenantId, 'admin');

      const outcomes = await Promise.allSettled([
        admin.setRole(a.tenantId, a.sub, 'member'),
        round % 2 === 0
          ? admin.setRole(a.tenantId, b.sub, 'member')
          : admin.removeMember(a.tenantId, b.sub),
      ]);

      const admins = (await registry.listMembers(a.tenantId)).filter((m) => m.role === 'admin');
      expect(admins.length, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(1);
      expect(outcomes.some((o) => o.status === 'rejected')).toBe(true);
    }
  });
});

describe("another tenant's members", () => {
  it('cannot be demoted or removed, and the answer is the same as for no one at all', async () => {
    const attacker = await seedTenant('members-attacker');
    const victimOwner = await seedTenant('members-victim');
    const victim: TestUser = await addMember(victimOwner.tenantId, 'admin');
    const token = await accessToken(attacker);

    const answers = [
      await callTool(token, 'tenant_users_set_role', { userId: victim.sub, role: 'member' }),
      await callTool(token, 'tenant_users_remove', { userId: victim.sub }),
      await callTool(token, 'tenant_users_remove', { userId: crypto.randomUUID() }),
      await callTool(token, 'tenant_users_remove', { userId: victimOwner.sub }),
    ];

    for (const answer of answers) {
      expect(errorText(answer)).toBe('No such member in this organisation.');
    }
    expect(await registry.getMembership(victim.sub)).toMatchObject({
      tenantId: victimOwner.tenantId,
      role: 'admin',
    });
    expect((await whoami(await accessToken(victim))).reply.status).toBe(200);
  });

  it('are out of reach of members, who do not see the tools', async () => {
    const owner = await seedTenant('members-only');
    const member = await addMember(owner.tenantId, 'member');
    const token = await accessToken(member);

    const tools = await toolsOf(token);
    const call = await callTool(token, 'tenant_users_remove', { userId: owner.sub });

    expect(tools).not.toContain('tenant_users_remove');
    expect(tools).not.toContain('tenant_users_set_role');
    expect(refused(call)).toBe(true);
    expect(await registry.getMembership(owner.sub)).toMatchObject({ role: 'admin' });
  });

  it('refuses a bad role or user id with a generic error and changes nothing', async () => {
    const owner = await seedTenant('members-bad-input');
    const member = await addMember(owner.tenantId, 'member');
    const token = await accessToken(owner);

    const badRole = await callTool(token, 'tenant_users_set_role', {
      userId: member.sub,
      role: 'owner',
    });
    const longId = await callTool(token, 'tenant_users_remove', { userId: 'x'.repeat(500) });

    expect(badRole.result?.isError).toBe(true);
    expect(longId.result?.isError).toBe(true);
    expect(JSON.stringify([badRole.result, longId.result])).not.toMatch(/\bat .+:\d+:\d+/);
    expect(await registry.getMembership(member.sub)).toMatchObject({ role: 'member' });
  });
});
