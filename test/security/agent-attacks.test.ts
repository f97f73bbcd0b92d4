import { KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { KmsJwtSigner } from '../../lambda/shared/edge/jwt-signer.js';
import {
  agentToken,
  basic,
  claimsOf,
  clientCredentials,
  createAgent,
  exchange,
  platformSigner,
  postToken,
  type TestAgent,
} from '../support/agents.js';
import {
  b64,
  hs256WithPublicKey,
  jwtParts,
  signedWithAnotherKey,
  tampered,
  unsigned,
} from '../support/forgery.js';
import {
  accessToken,
  addMember,
  callTool,
  harness,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';

/**
 * Attacks on agents and delegations (issue 18), from another tenant's side and from outside:
 * borrowed client ids, forged actors, other tenants' subject tokens, members reaching for
 * admin tools, and guessing secrets. Each must be refused with the RFC's error and nothing
 * of the victim's must change.
 */
describe('agent attacks', () => {
  let acme: TestUser;
  let globex: TestUser;
  let acmeAgent: TestAgent;
  let globexAgent: TestAgent;

  beforeAll(async () => {
    acme = await seedTenant('attack-acme');
    globex = await seedTenant('attack-globex');
    await callTool(await accessToken(globex), 'notes_create', { title: 'G', body: 'GLOBEX-ONLY' });
    acmeAgent = await createAgent(acme, { tools: ['whoami', 'notes_list'] });
    globexAgent = await createAgent(globex, { tools: ['whoami', 'notes_list'] });
  });

  it("an agent of tenant A presenting tenant B's client id gets invalid_client, never B's token", async () => {
    const asGlobex = await clientCredentials({
      clientId: globexAgent.clientId,
      clientSecret: acmeAgent.clientSecret,
    });
    // Acme's agent id under globex's tenant, and the reverse: no such client.
    const spliced = await clientCredentials({
      clientId: `${globex.tenantId}.${acmeAgent.agentId}`,
      clientSecret: acmeAgent.clientSecret,
    });

    for (const answer of [asGlobex, spliced]) {
      expect(answer).toEqual({
        status: 400,
        body: { error: 'invalid_client', error_description: 'Client authentication failed.' },
      });
    }
  });

  it('an agent token edited to name another tenant, another agent or another actor is refused (401)', async () => {
    const token = await agentToken(acmeAgent);
    const delegated = String(
      (await exchange(acmeAgent, await accessToken(await addMember(acme.tenantId, 'member')))).body
        .access_token,
    );
    const forgeries = [
      tampered(token, { 'custom:tenantId': globex.tenantId }),
      tampered(token, { agent_id: globexAgent.agentId }),
      tampered(token, { scope: 'tool:notes_list tool:notes_create tool:agents_create' }),
      tampered(delegated, { act: { sub: globexAgent.clientId } }),
      tampered(delegated, { sub: globex.sub }),
      unsigned(token),
      await signedWithAnotherKey(token, String(jwtParts(token).header.kid)),
      await hs256WithPublicKey(token, harness().gatewayUrl),
    ];

    for (const forged of forgeries) {
      expect((await callTool(forged, 'notes_list')).reply.status).toBe(401);
    }
  });

  it('a correctly signed token whose actor, client and tenant disagree is refused', async () => {
    const claims = claimsOf(await agentToken(acmeAgent));
    const signer = platformSigner();
    // The control: the same claims, signed again, are served.
    expect((await callTool(await signer.sign(claims, 'at+jwt'), 'notes_list')).reply.status).toBe(
      200,
    );
    const disagreeing = [
      // Acme's agent claiming to act for globex's admin, inside globex.
      {
        ...claims,
        'custom:tenantId': globex.tenantId,
        sub: globex.sub,
        act: { sub: acmeAgent.clientId },
      },
      // An actor that is not the client.
      { ...claims, sub: acme.sub, act: { sub: globexAgent.clientId } },
      // Another agent's id under this client.
      { ...claims, agent_id: globexAgent.agentId },
    ];

    for (const payload of disagreeing) {
      const status = (await callTool(await signer.sign(payload, 'at+jwt'), 'notes_list')).reply
        .status;
      expect(status).toBe(401);
    }
  });

  it("an access token signed with the webhook key (the MCP function's) is refused: that key mints no access", async () => {
    const claims = claimsOf(await agentToken(acmeAgent));
    const webhookKey = new KmsJwtSigner(
      new KMSClient({}),
      String(process.env.WEBHOOK_SIGNING_KEY_ARN),
    );

    expect(
      (await callTool(await webhookKey.sign(claims, 'at+jwt'), 'notes_list')).reply.status,
    ).toBe(401);
  });

  it('a person token (Cognito) carrying an act claim is refused: only the platform names actors', async () => {
    const forged = await accessToken(acme, { claims: { act: { sub: acmeAgent.clientId } } });

    expect((await callTool(forged, 'whoami')).reply.status).toBe(401);
  });

  it("a token exchange with another tenant's subject token is refused (invalid_grant)", async () => {
    const answer = await exchange(acmeAgent, await accessToken(globex));

    expect(answer).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'The subject token is not acceptable.' },
    });
  });

  it('a token exchange with a forged or foreign subject token is refused', async () => {
    const person = await accessToken(acme);
    const subjects = [
      tampered(person, { 'custom:tenantId': globex.tenantId }),
      await signedWithAnotherKey(person),
      await agentToken(acmeAgent),
      `${b64({ alg: 'none' })}.${b64({ sub: acme.sub })}.`,
    ];

    for (const subject of subjects) {
      expect((await exchange(acmeAgent, subject)).body.error).toBe('invalid_grant');
    }
  });

  it("globex's agent reads globex's notes only; acme's agent never sees them", async () => {
    const acmeNotes = toolOutput(
      (await callTool(await agentToken(acmeAgent), 'notes_list')).result,
    );
    const globexNotes = toolOutput(
      (await callTool(await agentToken(globexAgent), 'notes_list')).result,
    );

    expect(JSON.stringify(acmeNotes)).not.toContain('"G"');
    expect(globexNotes).toMatchObject({ notes: [expect.objectContaining({ title: 'G' })] });
  });

  it('a member (not an admin) cannot create, rotate, revoke or list agents', async () => {
    const member = await addMember(acme.tenantId, 'member');
    const token = await accessToken(member);
    const before = JSON.stringify(
      toolOutput((await callTool(await accessToken(acme), 'agents_list')).result),
    );

    for (const [tool, args] of [
      ['agents_create', { name: 'Mine', tools: ['whoami'], access: 'read' }],
      ['agents_list', {}],
      ['agents_rotate', { agentId: acmeAgent.agentId }],
      ['agents_revoke', { agentId: acmeAgent.agentId }],
    ] as const) {
      const call = await callTool(token, tool, args);
      expect((call.reply.json() as { error?: { message: string } }).error?.message).toMatch(
        /not found/,
      );
    }
    expect(
      JSON.stringify(toolOutput((await callTool(await accessToken(acme), 'agents_list')).result)),
    ).toBe(before);
  });

  it("an admin cannot rotate or revoke another tenant's agent", async () => {
    const token = await accessToken(acme);

    for (const tool of ['agents_rotate', 'agents_revoke']) {
      const result = toolOutput(
        (await callTool(token, tool, { agentId: globexAgent.agentId })).result,
      );
      expect(result.error).toBe('No such agent.');
    }
    expect((await callTool(await agentToken(globexAgent), 'whoami')).reply.status).toBe(200);
  });

  it('guessing a secret is bounded: after 10 failures the client is refused, even with the right secret', async () => {
    const victim = await createAgent(acme, { tools: ['whoami'] });
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const guess = await clientCredentials({
        clientId: victim.clientId,
        clientSecret: `${'A'.repeat(42)}${attempt}`,
      });
      expect(guess.body.error).toBe('invalid_client');
    }

    const locked = await clientCredentials(victim);

    expect(locked).toEqual({
      status: 429,
      body: {
        error: 'invalid_client',
        error_description: 'Too many failed attempts. Try again later.',
      },
      retryAfter: expect.stringMatching(/^\d+$/),
    });
    // Another agent of the same tenant is not locked out.
    expect((await clientCredentials(acmeAgent)).status).toBe(200);
  });

  it('guessing in parallel does not overrun the bound: at most 10 guesses are checked', async () => {
    const victim = await createAgent(acme, { tools: ['whoami'] });
    const guesses = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        clientCredentials({
          clientId: victim.clientId,
          clientSecret: `${'B'.repeat(41)}${String(i).padStart(2, '0')}`,
        }),
      ),
    );

    expect(guesses.filter((g) => g.status === 400)).toHaveLength(10);
    expect(guesses.filter((g) => g.status === 429)).toHaveLength(15);
    expect((await clientCredentials(victim)).status).toBe(429);
  });

  it('malformed client authentication and grant parameters get the RFC errors, generically', async () => {
    const auth = basic(acmeAgent.clientId, acmeAgent.clientSecret);
    const cases: Array<[Record<string, string>, string | undefined, string]> = [
      [{ grant_type: 'client_credentials' }, 'Basic !!!', 'invalid_client'],
      [{ grant_type: 'client_credentials' }, 'Bearer abc', 'invalid_client'],
      [{ grant_type: 'client_credentials', client_assertion: 'x.y.z' }, auth, 'invalid_client'],
      [{ grant_type: 'client_credentials', client_secret: 'x' }, auth, 'invalid_client'],
      [{ grant_type: 'password', username: 'a', password: 'b' }, auth, 'unsupported_grant_type'],
      [
        { grant_type: 'client_credentials', resource: 'https://evil.example/mcp' },
        auth,
        'invalid_target',
      ],
      [
        { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'x' },
        auth,
        'invalid_request',
      ],
      [
        { grant_type: 'client_credentials', audience: 'https://evil.example/mcp' },
        auth,
        'invalid_target',
      ],
      [{ scope: 'tool:whoami' }, auth, 'invalid_request'],
    ];

    for (const [fields, authorization, error] of cases) {
      const answer = await postToken(fields, authorization);
      expect(answer.status, JSON.stringify(fields)).toBe(400);
      expect(answer.body.error).toBe(error);
      expect(JSON.stringify(answer.body)).not.toMatch(/acme|globex|stack|Error:/);
    }
  });
});
