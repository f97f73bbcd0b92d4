import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { FetchJwksFetcher } from '../../lambda/shared/edge/access-token.js';
import { facadeUrls } from '../../lambda/shared/edge/oauth-metadata.js';
import { localAdmin } from '../support/admin.js';
import {
  agentToken,
  claimsOf,
  clientCredentials,
  createAgent,
  exchange,
  headerOf,
  platformSigner,
  postToken,
  type TestAgent,
} from '../support/agents.js';
import {
  accessToken,
  addMember,
  callTool,
  harness,
  postMcp,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';
import { localRegistry } from '../support/registry.js';

/**
 * Agents (issue 18): a tenant's own OAuth clients, with client credentials, an allowlist of
 * tools and read or write access, and people's delegations to them by token exchange. Every
 * test goes through the local stack: the façade's token endpoint, the authorizer, the MCP
 * function.
 */
const admin = localAdmin();
const cacheExpiry = () =>
  new Promise((resolve) => setTimeout(resolve, inject('authorizerCacheTtlSeconds') * 1000 + 200));
const toolsOf = async (token: string) => {
  const reply = await postMcp(
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
  );
  return (reply.json() as { result: { tools: Array<{ name: string }> } }).result.tools
    .map((tool) => tool.name)
    .sort();
};

describe('agents: client credentials', () => {
  let acme: TestUser;
  let reader: TestAgent;

  beforeAll(async () => {
    acme = await seedTenant('agent-acme');
    await callTool(await accessToken(acme), 'notes_create', { title: 'Plan', body: 'ACME-PLAN' });
    reader = await createAgent(acme, { tools: ['whoami', 'notes_list', 'notes_get'] });
  });

  it('gets a short-lived RFC 9068 token naming its tenant, itself and its tools', async () => {
    const answer = await clientCredentials(reader);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(answer.body).not.toHaveProperty('refresh_token');
    const token = String(answer.body.access_token);
    expect(headerOf(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(claimsOf(token)).toMatchObject({
      iss: harness().gatewayUrl,
      aud: `${harness().gatewayUrl}/mcp`,
      sub: reader.clientId,
      client_id: reader.clientId,
      'custom:tenantId': acme.tenantId,
      agent_id: reader.agentId,
      scope: 'tool:notes_get tool:notes_list tool:whoami',
    });
    const claims = claimsOf(token) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(15 * 60);
  });

  it('verifies against the JWKS the façade publishes', async () => {
    const token = await agentToken(reader);
    const verifier = JwtRsaVerifier.create(
      {
        issuer: harness().gatewayUrl,
        audience: `${harness().gatewayUrl}/mcp`,
        jwksUri: facadeUrls(harness().gatewayUrl).jwks,
      },
      { jwksCache: new SimpleJwksCache({ fetcher: new FetchJwksFetcher() }) },
    );

    await expect(verifier.verify(token)).resolves.toMatchObject({ agent_id: reader.agentId });
  });

  it('sees and calls exactly its allowlisted tools, in its own tenant', async () => {
    const token = await agentToken(reader);

    expect(await toolsOf(token)).toEqual(['notes_get', 'notes_list', 'whoami']);
    const notes = toolOutput((await callTool(token, 'notes_list')).result) as {
      notes: Array<{ title: string }>;
    };
    expect(notes.notes.map((n) => n.title)).toEqual(['Plan']);
    expect(toolOutput((await callTool(token, 'whoami')).result)).toMatchObject({
      tenantId: acme.tenantId,
      role: 'member',
      userId: reader.clientId,
      agentId: reader.agentId,
      agentAccess: 'read',
    });
    // Valid arguments, so only the allowlist can refuse: the tool is not there for it.
    const { id } = toolOutput(
      (await callTool(await accessToken(acme), 'notes_create', { title: 'T', body: 'B' })).result,
    );
    for (const [tool, args] of [
      ['notes_create', { title: 'Agent', body: 'not allowed' }],
      ['notes_delete', { id }],
      ['tenant_info', {}],
      ['agents_list', {}],
    ] as const) {
      const call = await callTool(token, tool, args);
      expect((call.reply.json() as { error?: { message: string } }).error?.message, tool).toBe(
        `Tool ${tool} not found`,
      );
    }
  });

  it('can ask for fewer tools, never more (invalid_scope)', async () => {
    const narrow = await clientCredentials(reader, { scope: 'tool:whoami' });
    const wider = await clientCredentials(reader, { scope: 'tool:whoami tool:notes_create' });

    expect(narrow.status).toBe(200);
    expect(await toolsOf(String(narrow.body.access_token))).toEqual(['whoami']);
    expect(wider).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it('refuses an allowlist beyond a member of the tier, or a write tool for a read-only agent', async () => {
    const token = await accessToken(acme);
    const adminTool = await callTool(token, 'agents_create', {
      name: 'Escalator',
      tools: ['agents_create'],
      access: 'write',
    });
    const writeTool = await callTool(token, 'agents_create', {
      name: 'Sneaky reader',
      tools: ['notes_create'],
      access: 'read',
    });
    const free = await seedTenant('agent-free', { tier: 'free' });
    const paidTool = await callTool(await accessToken(free), 'agents_create', {
      name: 'Publisher',
      tools: ['notes_publish'],
      access: 'write',
    });

    expect(toolOutput(adminTool.result).error).toMatch(/Not available to an agent.*agents_create/);
    expect(toolOutput(writeTool.result).error).toMatch(/read access.*notes_create/);
    expect(toolOutput(paidTool.result).error).toMatch(/notes_publish/);
  });

  it('writes with write access, and its writes belong to its tenant', async () => {
    const writer = await createAgent(acme, { tools: ['notes_create'], access: 'write' });
    const token = await agentToken(writer);

    const created = toolOutput(
      (await callTool(token, 'notes_create', { title: 'By agent', body: 'AGENT-NOTE' })).result,
    );
    const list = toolOutput((await callTool(await accessToken(acme), 'notes_list')).result) as {
      notes: Array<{ id: string }>;
    };
    expect(list.notes.map((n) => n.id)).toContain(created.id);
  });

  it('never shows a secret again: agents_list has no secret or hash', async () => {
    const listed = await callTool(await accessToken(acme), 'agents_list');

    const text = JSON.stringify(listed.result);
    expect(text).toContain(reader.clientId);
    expect(text).not.toContain(reader.clientSecret);
    expect(text).not.toMatch(/secretHash|[0-9a-f]{64}/);
  });

  it('rotation: the new secret works, the old one and its tokens do not', async () => {
    const agent = await createAgent(acme, { tools: ['whoami'] });
    const oldToken = await agentToken(agent);
    const rotated = toolOutput(
      (await callTool(await accessToken(acme), 'agents_rotate', { agentId: agent.agentId })).result,
    ) as { clientSecret: string; agent: { generation: number } };

    expect(rotated.agent.generation).toBe(2);
    expect(await clientCredentials(agent)).toMatchObject({
      status: 400,
      body: { error: 'invalid_client' },
    });
    const fresh = await agentToken({ ...agent, clientSecret: rotated.clientSecret });
    expect((await callTool(fresh, 'whoami')).reply.status).toBe(200);
    await cacheExpiry();
    expect((await callTool(oldToken, 'whoami')).reply.status).toBe(403);
  });

  it('revocation: no new token, and its tokens stop within the cache time', async () => {
    const agent = await createAgent(acme, { tools: ['whoami'] });
    const token = await agentToken(agent);
    expect((await callTool(token, 'whoami')).reply.status).toBe(200);

    await callTool(await accessToken(acme), 'agents_revoke', { agentId: agent.agentId });

    expect(await clientCredentials(agent)).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: 'Client authentication failed.' },
    });
    await cacheExpiry();
    expect((await callTool(token, 'whoami')).reply.status).toBe(403);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = claimsOf(await agentToken(reader));
    // The same claims signed again are accepted: only the expiry differs below.
    const resigned = await platformSigner().sign(claims, 'at+jwt');
    const expired = await platformSigner().sign(
      { ...claims, iat: now - 1000, exp: now - 60 },
      'at+jwt',
    );

    expect((await callTool(resigned, 'whoami')).reply.status).toBe(200);
    expect((await callTool(expired, 'whoami')).reply.status).toBe(401);
  });

  it('an agent of a suspended tenant gets no token, and its tokens stop; resumed, it works again', async () => {
    const tenant = await seedTenant('agent-suspended');
    const agent = await createAgent(tenant, { tools: ['whoami'] });
    const token = await agentToken(agent);

    await admin.suspend(tenant.tenantId);
    await cacheExpiry();

    expect(await clientCredentials(agent)).toMatchObject({
      status: 400,
      body: { error: 'unauthorized_client' },
    });
    expect((await callTool(token, 'whoami')).reply.status).toBe(403);
    await admin.resume(tenant.tenantId);
    expect((await callTool(await agentToken(agent), 'whoami')).reply.status).toBe(200);
  });

  it('offboarding revokes every agent of the tenant', async () => {
    const tenant = await seedTenant('agent-offboarded');
    const agent = await createAgent(tenant, { tools: ['whoami'] });

    await admin.offboard(tenant.tenantId);

    expect(await clientCredentials(agent)).toMatchObject({
      status: 400,
      body: { error: 'invalid_client' },
    });
  });
});

describe('agents: delegation by token exchange (RFC 8693)', () => {
  let acme: TestUser;
  let member: TestUser;
  let agent: TestAgent;

  beforeAll(async () => {
    acme = await seedTenant('delegate-acme');
    member = await addMember(acme.tenantId, 'member');
    agent = await createAgent(acme, { tools: ['whoami', 'notes_list'] });
  });

  it("gives the agent a token for the person: the person's tenant, the agent as actor, the agent's tools at most", async () => {
    const answer = await exchange(agent, await accessToken(member));

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    const token = String(answer.body.access_token);
    expect(claimsOf(token)).toMatchObject({
      sub: member.sub,
      act: { sub: agent.clientId },
      client_id: agent.clientId,
      'custom:tenantId': acme.tenantId,
    });
    expect(await toolsOf(token)).toEqual(['notes_list', 'whoami']);
    expect(toolOutput((await callTool(token, 'whoami')).result)).toMatchObject({
      tenantId: acme.tenantId,
      userId: member.sub,
      agentId: agent.agentId,
    });
  });

  it("never outlives the person's token", async () => {
    const answer = await exchange(agent, await accessToken(member, { expiresIn: 60 }));

    expect(answer.status).toBe(200);
    expect(Number(answer.body.expires_in)).toBeLessThanOrEqual(60);
  });

  it('cannot widen itself: a delegated token is not a subject token, and scope stays within the agent', async () => {
    const delegated = String((await exchange(agent, await accessToken(member))).body.access_token);

    expect(await exchange(agent, delegated)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(
      await exchange(agent, await accessToken(member), { scope: 'tool:notes_create' }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it("lets the person's own client delegate with the agent's token as actor, so the agent never holds the person's token", async () => {
    const actor = await agentToken(agent, 'tool:whoami');
    const asPerson = (fields: Record<string, string>) =>
      postToken({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        ...fields,
      });

    const answer = await asPerson({ subject_token: await accessToken(member), actor_token: actor });

    expect(answer.status).toBe(200);
    const token = String(answer.body.access_token);
    expect(claimsOf(token)).toMatchObject({ sub: member.sub, act: { sub: agent.clientId } });
    // No more than the actor token's tools.
    expect(await toolsOf(token)).toEqual(['whoami']);

    const globex = await seedTenant('delegate-globex');
    const foreignAgent = await createAgent(globex, { tools: ['whoami'] });
    const refusals = [
      // Another tenant's agent as the actor.
      { subject_token: await accessToken(member), actor_token: await agentToken(foreignAgent) },
      // A delegation as the actor, or a person's token.
      { subject_token: await accessToken(member), actor_token: token },
      { subject_token: await accessToken(member), actor_token: await accessToken(member) },
    ];
    for (const fields of refusals) {
      expect((await asPerson(fields)).body.error).toBe('invalid_grant');
    }
    expect(
      (await asPerson({ subject_token: await accessToken(member), actor_token_type: '' })).body
        .error,
    ).toBe('invalid_request');
  });

  it("dies with the person's membership", async () => {
    const leaving = await addMember(acme.tenantId, 'member');
    const subject = await accessToken(leaving);
    const delegated = String((await exchange(agent, subject)).body.access_token);
    expect((await callTool(delegated, 'whoami')).reply.status).toBe(200);

    await admin.removeMember(acme.tenantId, leaving.sub);
    await cacheExpiry();

    expect((await callTool(delegated, 'whoami')).reply.status).toBe(403);
    expect(await exchange(agent, subject)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it("an agent dies with its creator's membership, even one the removal's own revocation missed", async () => {
    const departing = await addMember(acme.tenantId, 'admin');
    const theirs = await createAgent(departing, { tools: ['whoami'] });
    const token = await agentToken(theirs);

    // As if made in the moment between the removal's revocation and the membership's deletion:
    // the membership goes, the agent stays.
    await localRegistry().removeMembership(departing.sub, acme.tenantId);
    await cacheExpiry();

    expect(await clientCredentials(theirs)).toMatchObject({
      status: 400,
      body: { error: 'invalid_client' },
    });
    expect((await callTool(token, 'whoami')).reply.status).toBe(403);
  });

  it('removing a member revokes the agents they created', async () => {
    const departing = await addMember(acme.tenantId, 'admin');
    const theirs = await createAgent(departing, { tools: ['whoami'] });
    const token = await agentToken(theirs);

    await admin.removeMember(acme.tenantId, departing.sub);
    await cacheExpiry();

    expect((await clientCredentials(theirs)).status).toBe(400);
    expect((await callTool(token, 'whoami')).reply.status).toBe(403);
    // The others' agents keep working.
    expect((await callTool(await agentToken(agent), 'whoami')).reply.status).toBe(200);
  });
});
