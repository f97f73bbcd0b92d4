import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  b64,
  hs256WithPublicKey,
  signedWithAnotherKey,
  tampered,
  unsigned,
} from '../support/forgery.js';
import {
  accessToken,
  addMember,
  harness,
  mcpUrl,
  mintTokens,
  postMcp,
  seedTenant,
  type TestUser,
} from '../support/mcp.js';
import { localRegistry } from '../support/registry.js';

const toolCall = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
};
const legacyHeaders = { 'mcp-protocol-version': '2025-06-18' };
describe('gateway authentication and authorization', () => {
  let acme: TestUser;
  let globex: TestUser;
  let valid: string;
  const call = (token: string | undefined, headers: Record<string, string> = {}) =>
    postMcp(toolCall, {
      ...legacyHeaders,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    });

  /** A refusal names no tenant, carries no stack trace, and 401s carry the challenge. */
  const expectRefusal = (response: Awaited<ReturnType<typeof call>>, status: number) => {
    expect(response.status).toBe(status);
    expect(response.text).not.toContain(acme.tenantId);
    expect(response.text).not.toContain(globex.tenantId);
    expect(response.text).not.toMatch(/\bat .+:\d+:\d+|Error:/);
    if (status === 401) {
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer resource_metadata="${harness().gatewayUrl}/.well-known/oauth-protected-resource/mcp", scope="mcp/invoke"`,
      );
    }
  };

  beforeAll(async () => {
    acme = await seedTenant('acme');
    globex = await seedTenant('globex');
    valid = await accessToken(acme);
  });

  it('accepts a valid access token and serves its tenant', async () => {
    const response = await call(valid);

    expect(response.status).toBe(200);
    expect(response.text).toContain(acme.tenantId);
  });

  it('answers a request without a token with 401 and the resource metadata challenge', async () => {
    expectRefusal(await call(undefined), 401);
  });

  it('refuses another authorization scheme', async () => {
    expectRefusal(await call(undefined, { authorization: `Basic ${b64('acme:secret')}` }), 401);
  });

  it('refuses an expired token', async () => {
    expectRefusal(await call(await accessToken(acme, { expiresIn: -120 })), 401);
  });

  it('refuses a token that is not valid yet', async () => {
    expectRefusal(await call(await accessToken(acme, { notBeforeIn: 600 })), 401);
  });

  it('refuses a token whose payload was edited to name another tenant', async () => {
    expectRefusal(await call(tampered(valid, { 'custom:tenantId': globex.tenantId })), 401);
  });

  it('refuses an unsigned token (alg: none)', async () => {
    expectRefusal(await call(unsigned(valid)), 401);
  });

  it("refuses a token signed with another key under the issuer's key id", async () => {
    expectRefusal(await call(await signedWithAnotherKey(valid)), 401);
  });

  it("refuses an HS256 token keyed with the issuer's public key", async () => {
    expectRefusal(await call(await hs256WithPublicKey(valid, harness().issuerUrl)), 401);
  });

  it('refuses a token with an unknown key id', async () => {
    expectRefusal(await call(await signedWithAnotherKey(valid, 'not-a-key-of-the-issuer')), 401);
  });

  it('refuses a token from another issuer', async () => {
    expectRefusal(
      await call(await accessToken(acme, { claims: { iss: 'https://issuer.example.com' } })),
      401,
    );
  });

  it('refuses a token issued to a client that is not allowed', async () => {
    expectRefusal(await call(await accessToken(acme, { clientId: 'some-other-client' })), 401);
  });

  it('refuses a token without the MCP scope', async () => {
    expectRefusal(await call(await accessToken(acme, { scope: 'openid email' })), 401);
  });

  it('refuses an ID token used as a bearer token', async () => {
    const { id_token } = await mintTokens(acme.sub);

    expectRefusal(await call(id_token), 401);
  });

  it('refuses a token without a tenant claim', async () => {
    expectRefusal(await call(await accessToken(acme, { omitClaims: ['custom:tenantId'] })), 401);
  });

  it('refuses a token whose tenant claim is not a tenant id', async () => {
    expectRefusal(
      await call(await accessToken(acme, { claims: { 'custom:tenantId': 'ACME; DROP' } })),
      401,
    );
  });

  it('denies a token naming a tenant the registry does not know', async () => {
    const token = await accessToken(acme, { claims: { 'custom:tenantId': 'ghost-tenant' } });

    expectRefusal(await call(token), 403);
  });

  it.each(['SUSPENDED', 'DELETED'] as const)(
    'denies a %s tenant’s still-valid tokens',
    async (status) => {
      const victim = await seedTenant('initech');
      const token = await accessToken(victim);
      await localRegistry().transitionTenant(victim.tenantId, { from: ['ACTIVE'], to: status });

      const response = await call(token);

      expectRefusal(response, 403);
      expect(response.text).not.toContain(victim.tenantId);
    },
  );

  it('keeps serving a suspended tenant only until the cached authorization expires', async () => {
    const victim = await seedTenant('umbrella');
    const token = await accessToken(victim);
    expect((await call(token)).status).toBe(200);

    await localRegistry().transitionTenant(victim.tenantId, { from: ['ACTIVE'], to: 'SUSPENDED' });
    const cached = await call(token);
    await new Promise((resolve) =>
      setTimeout(resolve, inject('authorizerCacheTtlSeconds') * 1000 + 200),
    );
    const afterTtl = await call(token);

    expect(cached.status).toBe(200);
    expectRefusal(afterTtl, 403);
  });

  it('denies a user removed from the tenant, although the token still names it', async () => {
    const admin = await seedTenant('hooli');
    const removed = await addMember(admin.tenantId, 'member');
    const token = await accessToken(removed);
    await localRegistry().removeMembership(removed.sub, admin.tenantId);

    expectRefusal(await call(token), 403);
  });

  it('applies a demotion at once: the registry role wins over the token role', async () => {
    const admin = await seedTenant('pied-piper');
    const token = await accessToken(admin);
    await localRegistry().setMemberRole(admin.sub, admin.tenantId, 'member');

    const response = await call(token);

    expect(response.status).toBe(200);
    expect(response.text).toContain('\\"role\\":\\"member\\"');
  });

  it('accepts the bearer scheme in any case', async () => {
    expect((await call(undefined, { authorization: `bearer ${valid}` })).status).toBe(200);
  });

  it.each(['X-Tenant-Id', 'x-tenant-id', 'X-Amz-Tenant-Id'])(
    'ignores a %s header naming another tenant',
    async (header) => {
      const response = await call(valid, { [header]: globex.tenantId });

      expect(response.status).toBe(200);
      expect(response.text).toContain(acme.tenantId);
      expect(response.text).not.toContain(globex.tenantId);
    },
  );

  it('answers 403 to a browser request from a foreign Origin', async () => {
    expectRefusal(await call(valid, { origin: 'https://evil.example.com' }), 403);
  });

  it('serves a browser request from an allowed Origin', async () => {
    expect((await call(valid, { origin: 'http://localhost:6274' })).status).toBe(200);
  });

  it.each(['GET', 'DELETE'])('answers %s on the endpoint with 405', async (method) => {
    const response = await fetch(mcpUrl(), {
      method,
      headers: { authorization: `Bearer ${valid}`, accept: 'text/event-stream' },
    });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers an unknown path with 404 and no detail', async () => {
    const response = await fetch(`${harness().gatewayUrl}/admin`, {
      headers: { authorization: `Bearer ${valid}` },
    });

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not found' });
  });

  it('serves the protected resource metadata without a token', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const response = await fetch(`${harness().gatewayUrl}${path}`);

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        resource: mcpUrl(),
        // The façade on the API's own origin, not Cognito.
        authorization_servers: [harness().gatewayUrl],
        scopes_supported: ['mcp/invoke'],
        bearer_methods_supported: ['header'],
        resource_name: 'Multi-tenant MCP server',
      });
    }
  });

  it('builds the metadata from configuration, not from the Host header', async () => {
    const response = await fetch(`${harness().gatewayUrl}/.well-known/oauth-protected-resource`, {
      headers: { host: 'evil.example.com', 'x-forwarded-host': 'evil.example.com' },
    });

    expect(await response.text()).not.toContain('evil.example.com');
  });
});
