import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postOutbound } from '../../lambda/shared/outbound/outbound.js';
import { createDeliveryVerifier } from '../../lambda/shared/outbound/webhook-receiver.js';
import { verifyWebhook } from '../../lambda/shared/outbound/webhook-signature.js';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { localAdmin } from '../support/admin.js';
import {
  accessToken,
  callTool,
  connect,
  harness,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that records deliveries; `redirectTo` answers 302. */
async function receiver(
  redirectTo?: string,
): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (redirectTo) res.writeHead(302, { location: redirectTo }).end();
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    server,
  };
}

const SECRET_A = 'acme-signing-secret-0001';
const SECRET_B = 'globex-signing-secret-0002';

describe('webhook integration with per-tenant secrets', () => {
  let acme: TestUser;
  let globex: TestUser;
  let hookA: Awaited<ReturnType<typeof receiver>>;
  let hookB: Awaited<ReturnType<typeof receiver>>;
  const call = async (user: TestUser, name: string, args: Record<string, unknown>) => {
    const client = await connect(await accessToken(user), 'modern');
    const result = await client.callTool({ name, arguments: args });
    await client.close();
    return result;
  };

  beforeAll(async () => {
    acme = await seedTenant('acme-hooks');
    globex = await seedTenant('globex-hooks');
    hookA = await receiver();
    hookB = await receiver();
    await call(acme, 'integrations_set', { webhookUrl: hookA.url, signingSecret: SECRET_A });
    await call(globex, 'integrations_set', { webhookUrl: hookB.url, signingSecret: SECRET_B });
  });
  afterAll(() => {
    hookA?.server.close();
    hookB?.server.close();
  });

  it('stores the credential without ever showing it again', async () => {
    const result = await call(acme, 'integrations_set', {
      webhookUrl: hookA.url,
      signingSecret: SECRET_A,
    });

    expect(toolOutput(result)).toEqual({ configured: true, webhookHost: new URL(hookA.url).host });
    expect(JSON.stringify(result)).not.toContain(SECRET_A);
  });

  it("signs a published note with the tenant's own secret and sends it to its own webhook", async () => {
    const note = toolOutput(
      await call(acme, 'notes_create', { title: 'Launch', body: 'ACME-LAUNCH-NOTE' }),
    );

    const result = toolOutput(await call(acme, 'notes_publish', { id: note.id }));

    expect(result).toEqual({ published: true, status: 204 });
    const delivery = hookA.deliveries.at(-1) as Delivery;
    const headers = {
      signature: String(delivery.headers['x-mcp-signature']),
      timestamp: String(delivery.headers['x-mcp-timestamp']),
    };
    expect(JSON.parse(delivery.body).note).toMatchObject({ id: note.id, body: 'ACME-LAUNCH-NOTE' });
    expect(verifyWebhook(SECRET_A, headers, delivery.body)).toBe(true);
    expect(verifyWebhook(SECRET_B, headers, delivery.body)).toBe(false);
    expect(hookB.deliveries.map((d) => d.body).join()).not.toContain('ACME-LAUNCH-NOTE');
  });

  it("carries the platform's credential for that webhook only: verified with the JWKS, refused by any other receiver and by the MCP API", async () => {
    const note = toolOutput(await call(acme, 'notes_create', { title: 'Signed', body: 'JWT' }));
    toolOutput(await call(acme, 'notes_publish', { id: note.id }));
    const delivery = hookA.deliveries.at(-1) as Delivery;
    const headers = {
      signature: String(delivery.headers['x-mcp-signature']),
      timestamp: String(delivery.headers['x-mcp-timestamp']),
      authorization: String(delivery.headers.authorization),
    };
    const issuer = harness().gatewayUrl;
    const receiverA = createDeliveryVerifier({
      secret: SECRET_A,
      issuer,
      audience: hookA.url,
      tenantId: acme.tenantId,
    });
    // The same delivery replayed to another destination (globex's receiver, its own secret
    // aside): the credential names hook A's origin, so it is refused there.
    const receiverB = createDeliveryVerifier({
      secret: SECRET_A,
      issuer,
      audience: hookB.url,
      tenantId: acme.tenantId,
    });
    // A receiver of another tenant on the same origin, with the same secret: refused.
    const otherTenant = createDeliveryVerifier({
      secret: SECRET_A,
      issuer,
      audience: hookA.url,
      tenantId: globex.tenantId,
    });

    expect(await receiverA(headers, delivery.body)).toEqual({
      tenantId: acme.tenantId,
      actor: expect.stringMatching(/^u_/),
    });
    expect(await receiverB(headers, delivery.body)).toBeUndefined();
    expect(await otherTenant(headers, delivery.body)).toBeUndefined();
    // Another body under the same credential, or no credential at all: refused.
    expect(await receiverA(headers, delivery.body.replace('JWT', 'XYZ'))).toBeUndefined();
    expect(await receiverA({ ...headers, authorization: '' }, delivery.body)).toBeUndefined();
    // It is no access token: the MCP API refuses it (audience, type).
    const credential = headers.authorization.replace('Bearer ', '');
    expect((await callTool(credential, 'whoami')).reply.status).toBe(401);
    const claims = JSON.parse(Buffer.from(credential.split('.')[1] ?? '', 'base64url').toString());
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(300);
  });

  it('answers "no webhook is configured" to notes_publish before any integrations_set, as on AWS', async () => {
    const fresh = await seedTenant('no-hook-yet');
    const note = toolOutput(await call(fresh, 'notes_create', { title: 'Draft', body: 'x' }));

    const result = await call(fresh, 'notes_publish', { id: note.id });

    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('No webhook is configured');
    // What IAM answers for the secret that does not exist yet: AccessDenied, not NotFound.
    const session = new TenantCredentials(new STSClient({}), {
      roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
    });
    const own = new SecretsManagerClient({
      credentials: () => session.forTenant(fresh.tenantId),
    });
    await expect(
      own.send(new GetSecretValueCommand({ SecretId: `mcp-tenants/${fresh.tenantId}/webhook` })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('still serves a webhook stored before secrets were recorded in the partition, and records it', async () => {
    const older = await seedTenant('older-hook');
    const session = new TenantCredentials(new STSClient({}), {
      roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
    });
    await new SecretsManagerClient({ credentials: () => session.forTenant(older.tenantId) }).send(
      new CreateSecretCommand({
        Name: `mcp-tenants/${older.tenantId}/webhook`,
        SecretString: JSON.stringify({ url: hookA.url, signingSecret: SECRET_A }),
        Tags: [{ Key: 'TenantId', Value: older.tenantId }],
      }),
    );
    const note = toolOutput(await call(older, 'notes_create', { title: 'Old', body: 'x' }));

    expect(toolOutput(await call(older, 'notes_publish', { id: note.id }))).toEqual({
      published: true,
      status: 204,
    });
  });

  it("refuses another tenant's session access to the tenant's secret", async () => {
    const globexSession = new TenantCredentials(new STSClient({}), {
      roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
    });
    const asGlobex = new SecretsManagerClient({
      credentials: () => globexSession.forTenant(globex.tenantId),
    });

    await expect(
      asGlobex.send(
        new GetSecretValueCommand({ SecretId: `mcp-tenants/${acme.tenantId}/webhook` }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it.each([
    ['a private address', 'http://10.0.0.1/hook'],
    ['the instance metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['a file: URL', 'file:///etc/passwd'],
  ])('refuses a webhook at %s with a clear error', async (_, webhookUrl) => {
    const result = toolOutput(
      await call(acme, 'integrations_set', { webhookUrl, signingSecret: SECRET_A }),
    );

    expect(String(result.error)).toMatch(/not allowed|Only https/);
  });

  it('does not follow a redirect: a signed delivery is never re-sent elsewhere', async () => {
    const tenant = await seedTenant('redirected');
    const trap = await receiver('http://169.254.169.254/latest/meta-data/');
    await call(tenant, 'integrations_set', { webhookUrl: trap.url, signingSecret: SECRET_A });
    const note = toolOutput(await call(tenant, 'notes_create', { title: 't', body: 'b' }));

    const result = toolOutput(await call(tenant, 'notes_publish', { id: note.id }));
    trap.server.close();

    expect(String(result.error)).toMatch(/redirect, which is not followed/);
    expect(trap.deliveries).toHaveLength(1);
  });

  it('checks every hop when redirects are allowed, and refuses one into a private network', async () => {
    const trap = await receiver('http://169.254.169.254/latest/meta-data/');

    const attempt = postOutbound(trap.url, '{}', {}, { allowLoopback: true, maxRedirects: 2 });

    await expect(attempt).rejects.toThrow(/not allowed: it leads to a private/);
    trap.server.close();
  });

  it('gives up on a webhook that accepts the connection and never answers, by the deadline', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
    const started = Date.now();

    await expect(
      postOutbound(url, '{}', {}, { allowLoopback: true, timeoutMs: 300 }),
    ).rejects.toThrow(/did not answer in time/);
    expect(Date.now() - started).toBeLessThan(2_000);
    silent.closeAllConnections();
    silent.close();
  });

  it('offers the integration tools to paying tiers only', async () => {
    const client = await connect(
      await accessToken(await seedTenant('free-hooks', { tier: 'free' })),
      'modern',
    );
    const names = (await client.listTools()).tools.map((t) => t.name);
    await client.close();

    expect(names).not.toContain('integrations_set');
    expect(names).not.toContain('notes_publish');
  });

  it("deletes the tenant's secrets when it is offboarded", async () => {
    const leaving = await seedTenant('hooks-leaving');
    await call(leaving, 'integrations_set', { webhookUrl: hookA.url, signingSecret: SECRET_A });

    await localAdmin().offboard(leaving.tenantId);

    const { SecretList = [] } = await new SecretsManagerClient({}).send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [`mcp-tenants/${leaving.tenantId}/`] }],
      }),
    );
    expect(SecretList).toEqual([]);
  });
});
