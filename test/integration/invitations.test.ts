import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { invitationLink } from '../../lambda/shared/edge/oauth-metadata.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { INVITATIONS_PER_DAY, Invitations } from '../../lambda/shared/registry/invitations.js';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { localAdmin } from '../support/admin.js';
import { acceptInvitation } from '../support/invitations.js';
import { PASSWORD, pkce, signUpThroughPages } from '../support/managed-login.js';
import { accessToken, callTool, harness, seedTenant, type TestUser } from '../support/mcp.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';
import { inbox } from '../support/stand-in.js';

/**
 * Invitations are offers (issue 16): inviting creates no account, so no tenant can claim a
 * person; the person accepts by signing up through the link with the invited address, or
 * ignores it and signs up their own organisation, and the inviter cannot tell which.
 */
const registry = localRegistry();
const cognito = new CognitoIdentityProviderClient({});
const accountOf = (email: string) =>
  cognito
    .send(new AdminGetUserCommand({ UserPoolId: process.env.USER_POOL_ID, Username: email }))
    .then(
      (user) => user.Username,
      () => undefined,
    );

async function invite(admin: TestUser, email: string, role = 'member') {
  const { result } = await callTool(await accessToken(admin), 'tenant_users_invite', {
    email,
    role,
  });
  if (!result || result.isError) throw new Error(`invite failed: ${JSON.stringify(result)}`);
  return result.structuredContent as {
    invitationId: string;
    acceptUrl: string;
    status: string;
  };
}
async function invitationsOf(admin: TestUser) {
  const { result } = await callTool(await accessToken(admin), 'tenant_invitations_list');
  const content = result?.structuredContent as
    | { invitations: Array<{ invitationId: string; email: string; status: string }> }
    | undefined;
  if (!content) throw new Error(`listing failed: ${JSON.stringify(result)}`);
  return content.invitations;
}
const person = (email: string) => ({ email, password: PASSWORD });

describe('an invitation is an offer', () => {
  it('creates no account: the person signs up their own organisation, and the inviter learns nothing', async () => {
    const inviter = await seedTenant('offer');
    const email = `someone@${uniqueTenantId('own-org')}.example`;

    const offer = await invite(inviter, email);
    const accountAfterInvite = await accountOf(email);
    await signUpThroughPages(email, 'Their Own Org', pkce().challenge);
    const sub = (await accountOf(email)) as string;

    expect(offer.status).toBe('PENDING');
    expect(offer.acceptUrl).toMatch(`${harness().gatewayUrl}/invitations?code=`);
    expect(accountAfterInvite).toBeUndefined();
    const membership = await registry.getMembership(sub);
    expect(membership?.tenantId).not.toBe(inviter.tenantId);
    expect(membership?.role).toBe('admin');
    // The inviter's view: still pending; nothing says the person signed up elsewhere.
    expect(await invitationsOf(inviter)).toEqual([
      expect.objectContaining({ invitationId: offer.invitationId, status: 'PENDING' }),
    ]);
    expect(await registry.listMembers(inviter.tenantId)).toHaveLength(1);
  });

  it('is accepted by signing up through its link with the invited address, with the offered role', async () => {
    const inviter = await seedTenant('accepted');
    const email = `new.hire@${inviter.tenantId}.example`;
    const offer = await invite(inviter, email, 'admin');

    const outcome = await acceptInvitation(offer.acceptUrl, person(email), inbox);
    const sub = (await accountOf(email)) as string;
    const me = await callTool(await accessToken({ ...inviter, sub }), 'whoami');

    expect(outcome).toEqual({ page: 'Your account is ready', error: undefined });
    expect(await registry.getMembership(sub)).toMatchObject({
      tenantId: inviter.tenantId,
      role: 'admin',
    });
    expect(me.result?.structuredContent).toMatchObject({
      tenantId: inviter.tenantId,
      role: 'admin',
    });
    expect(await invitationsOf(inviter)).toEqual([expect.objectContaining({ status: 'ACCEPTED' })]);
    // Taken once: the same link does nothing more.
    expect((await acceptInvitation(offer.acceptUrl, person(email), inbox)).page).not.toBe(
      'Your account is ready',
    );
  });
});

describe('no tenant can capture a person', () => {
  it('two tenants invite the same address: the person chooses, and the other offer stays unused', async () => {
    const first = await seedTenant('capture-a');
    const second = await seedTenant('capture-b');
    const email = `wanted@${uniqueTenantId('person')}.example`;
    const fromFirst = await invite(first, email, 'admin');
    const fromSecond = await invite(second, email);

    const accepted = await acceptInvitation(fromSecond.acceptUrl, person(email), inbox);
    const sub = (await accountOf(email)) as string;
    const other = await acceptInvitation(fromFirst.acceptUrl, person(email), inbox);

    expect(accepted.page).toBe('Your account is ready');
    expect(await registry.getMembership(sub)).toMatchObject({ tenantId: second.tenantId });
    expect(other.error).toMatch(/already has an account/);
    expect(await registry.getMembership(sub)).toMatchObject({ tenantId: second.tenantId });
    expect(await invitationsOf(first)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
    expect(await registry.listMembers(first.tenantId)).toHaveLength(1);
  });

  it('cannot be accepted with another address, even by the inviter who holds the link', async () => {
    const inviter = await seedTenant('wrong-address');
    const offer = await invite(inviter, `victim@${uniqueTenantId('victim')}.example`, 'admin');
    const attacker = `attacker@${inviter.tenantId}.example`;

    const outcome = await acceptInvitation(offer.acceptUrl, person(attacker), inbox);

    expect(outcome.error).toMatch(/not valid for this address/);
    expect(await accountOf(attacker)).toBeUndefined();
    expect(await invitationsOf(inviter)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
  });

  it('a code edited to name another tenant is worthless', async () => {
    const inviter = await seedTenant('tamper-a');
    const target = await seedTenant('tamper-b');
    const email = `someone@${uniqueTenantId('tamper')}.example`;
    const offer = await invite(inviter, email, 'admin');
    const code = new URL(offer.acceptUrl).searchParams.get('code') as string;
    const forged = [target.tenantId, ...code.split('.').slice(1)].join('.');

    const outcome = await acceptInvitation(
      invitationLink(harness().gatewayUrl, forged),
      person(email),
      inbox,
    );

    expect(outcome.error).toMatch(/not valid/);
    expect(await accountOf(email)).toBeUndefined();
    expect(await registry.listMembers(target.tenantId)).toHaveLength(1);
  });

  it("races the person's own sign-up: whichever is confirmed, the person is in one tenant only", async () => {
    const inviter = await seedTenant('race');
    const email = `racer@${uniqueTenantId('race')}.example`;
    const offer = await invite(inviter, email);

    const [own] = await Promise.allSettled([
      signUpThroughPages(email, 'Racer Org', pkce().challenge),
      acceptInvitation(offer.acceptUrl, person(email), inbox),
    ]);
    const sub = (await accountOf(email)) as string;
    const membership = await registry.getMembership(sub);
    const joined = membership?.tenantId === inviter.tenantId;

    expect(own.status === 'fulfilled' || joined).toBe(true);
    expect(own.status === 'fulfilled' && joined).toBe(false);
    expect(joined || membership?.role === 'admin').toBe(true);
    expect((await invitationsOf(inviter))[0]?.status).toBe(joined ? 'ACCEPTED' : 'PENDING');
  });
});

describe('an offer ends', () => {
  it('when withdrawn: the link no longer works and no account is made', async () => {
    const inviter = await seedTenant('revoked');
    const email = `late@${uniqueTenantId('revoked')}.example`;
    const offer = await invite(inviter, email);

    const revoked = await callTool(await accessToken(inviter), 'tenant_invitations_revoke', {
      invitationId: offer.invitationId,
    });
    const outcome = await acceptInvitation(offer.acceptUrl, person(email), inbox);
    const again = await callTool(await accessToken(inviter), 'tenant_invitations_revoke', {
      invitationId: offer.invitationId,
    });

    expect(revoked.result?.structuredContent).toEqual({
      invitationId: offer.invitationId,
      revoked: true,
    });
    expect(outcome.error).toMatch(/not valid/);
    expect(await accountOf(email)).toBeUndefined();
    expect(again.result?.isError).toBe(true);
    expect(await invitationsOf(inviter)).toEqual([expect.objectContaining({ status: 'REVOKED' })]);
  });

  it('when expired (7 days): shown as EXPIRED, and refused', async () => {
    const inviter = await seedTenant('expired');
    const email = `slow@${uniqueTenantId('expired')}.example`;
    const eightDaysAgo = () => new Date(Date.now() - 8 * 24 * 3600 * 1000);
    const old = new Invitations(
      createDocumentClient(),
      process.env.REGISTRY_TABLE_NAME as string,
      eightDaysAgo,
    );
    const { code } = await old.create(inviter.tenantId, email, 'member');

    const outcome = await acceptInvitation(
      invitationLink(harness().gatewayUrl, code),
      person(email),
      inbox,
    );

    expect(outcome.error).toMatch(/not valid/);
    expect(await accountOf(email)).toBeUndefined();
    expect(await invitationsOf(inviter)).toEqual([expect.objectContaining({ status: 'EXPIRED' })]);
  });

  it("cannot be withdrawn by another tenant's admin", async () => {
    const inviter = await seedTenant('revoke-owner');
    const other = await seedTenant('revoke-other');
    const offer = await invite(inviter, `kept@${uniqueTenantId('kept')}.example`);

    const attempt = await callTool(await accessToken(other), 'tenant_invitations_revoke', {
      invitationId: offer.invitationId,
    });

    expect(attempt.result?.isError).toBe(true);
    expect(await invitationsOf(inviter)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
  });
});

describe('an offer of a tenant that is not active', () => {
  it('is refused while the tenant is suspended, and withdrawn by offboarding', async () => {
    const inviter = await seedTenant('inactive-offer');
    const email = `waiting@${uniqueTenantId('inactive')}.example`;
    const offer = await invite(inviter, email);
    const admin = localAdmin();

    await admin.suspend(inviter.tenantId);
    const whileSuspended = await acceptInvitation(offer.acceptUrl, person(email), inbox);
    await admin.offboard(inviter.tenantId);

    expect(whileSuspended.error).toMatch(/not valid/);
    expect(await accountOf(email)).toBeUndefined();
    expect(await admin.invitations(inviter.tenantId)).toEqual([
      expect.objectContaining({ status: 'REVOKED' }),
    ]);
  });
});

describe('taking an offer', () => {
  it('survives a mistyped confirmation code: the page posts again where it should', async () => {
    const inviter = await seedTenant('typo');
    const email = `typo@${uniqueTenantId('typo')}.example`;
    const offer = await invite(inviter, email);

    const outcome = await acceptInvitation(offer.acceptUrl, person(email), inbox, {
      wrongCodeFirst: true,
    });

    expect(outcome).toEqual({ page: 'Your account is ready', error: undefined });
    expect(await registry.getMembership((await accountOf(email)) as string)).toMatchObject({
      tenantId: inviter.tenantId,
    });
  });

  it('happens once: a second person cannot take an offer already taken, the same one again can', async () => {
    const inviter = await seedTenant('once');
    const email = `once@${uniqueTenantId('once')}.example`;
    const invitations = new Invitations(
      createDocumentClient(),
      process.env.REGISTRY_TABLE_NAME as string,
    );
    const { code } = await invitations.create(inviter.tenantId, email, 'member');

    await invitations.accept(code, email, 'sub-first');
    const again = await invitations.accept(code, email, 'sub-first');
    const other = invitations.accept(code, email, 'sub-second');

    expect(again.acceptedBy).toBe('sub-first');
    await expect(other).rejects.toThrow(/not valid/);
  });
});

describe("another tenant's invitations, attacked with a tenant's own scoped session", () => {
  it('cannot be listed, read, withdrawn or added to: IAM refuses INVITES# of another tenant', async () => {
    const attacker = await seedTenant('invites-attacker');
    const victim = await seedTenant('invites-victim');
    const offer = await invite(victim, `target@${uniqueTenantId('target')}.example`, 'admin');
    const credentials = new TenantCredentials(new STSClient({}), {
      roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
    });
    const asAttacker = new Invitations(
      DynamoDBDocumentClient.from(
        new DynamoDBClient({ credentials: () => credentials.forTenant(attacker.tenantId) }),
      ),
      process.env.REGISTRY_TABLE_NAME as string,
    );

    const attempts = await Promise.allSettled([
      asAttacker.list(victim.tenantId),
      asAttacker.revoke(victim.tenantId, offer.invitationId),
      asAttacker.create(victim.tenantId, `sneaky@${attacker.tenantId}.example`, 'admin'),
    ]);

    for (const attempt of attempts) {
      expect(attempt).toMatchObject({
        status: 'rejected',
        reason: { name: 'AccessDeniedException' },
      });
    }
    expect(await asAttacker.list(attacker.tenantId)).toEqual([]);
    expect(await invitationsOf(victim)).toEqual([
      expect.objectContaining({ invitationId: offer.invitationId, status: 'PENDING' }),
    ]);
  });
});

describe('the daily limit', () => {
  it(`refuses one invitation past the daily ${INVITATIONS_PER_DAY} with a clear message, and other tenants are unaffected`, async () => {
    const busy = await seedTenant('daily-cap');
    const quiet = await seedTenant('daily-quiet');
    const admin = localAdmin();
    for (let i = 0; i < INVITATIONS_PER_DAY; i++) {
      await admin.invite(busy.tenantId, `p${i}@${busy.tenantId}.example`, 'member');
    }

    const refused = await callTool(await accessToken(busy), 'tenant_users_invite', {
      email: `one.more@${busy.tenantId}.example`,
    });
    const elsewhere = await invite(quiet, `fine@${quiet.tenantId}.example`);

    expect(refused.result?.content?.[0]?.text).toMatch(
      `sent its ${INVITATIONS_PER_DAY} invitations for today`,
    );
    expect(await invitationsOf(busy)).toHaveLength(INVITATIONS_PER_DAY);
    expect(elsewhere.status).toBe('PENDING');
  });

  it('hides the invitation tools from members', async () => {
    const owner = await seedTenant('invite-member');
    const { addMember } = await import('../support/mcp.js');
    const member = await addMember(owner.tenantId, 'member');

    const call = await callTool(await accessToken(member), 'tenant_users_invite', {
      email: `x@${owner.tenantId}.example`,
    });

    expect(call.result?.isError ?? (call.reply.json() as { error?: unknown }).error).toBeTruthy();
    expect(await invitationsOf(owner)).toEqual([]);
  });
});
