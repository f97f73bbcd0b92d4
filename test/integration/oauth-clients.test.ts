import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID } from '../../local/harness.js';
import { localAdmin } from '../support/admin.js';
import { jsonDocument, startHttpsServer } from '../support/https-server.js';
import { ERAS, type Era, harness, mcpUrl, toolOutput } from '../support/mcp.js';
import { signIn, TestOAuthClient } from '../support/oauth-client.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';

const PASSWORD = 'Correct-Horse-Battery-9';

/** An MCP SDK client that signs its requests with the provider's tokens (and refreshes them). */
async function connectWith(provider: TestOAuthClient, era: Era): Promise<Client> {
  const client = new Client(
    { name: 'oauth-journey', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl()), { authProvider: provider }),
  );
  return client;
}

/** Signs a new organisation up through the client's sign-in and checks what its token can do. */
async function journey(provider: TestOAuthClient) {
  const tenantName = uniqueTenantId('journey');
  const email = `founder@${tenantName}.example`;
  const outcome = await signIn(provider, {
    email,
    password: PASSWORD,
    signUpAs: `${tenantName} Org`,
  });
  const whoami: Record<string, unknown>[] = [];
  for (const era of ERAS) {
    const client = await connectWith(provider, era);
    whoami.push(toolOutput(await client.callTool({ name: 'whoami', arguments: {} })));
    await client.close();
  }
  return { outcome, whoami, email };
}

describe('MCP SDK OAuth client against the authorization façade', () => {
  let web: Awaited<ReturnType<typeof startHttpsServer>>;
  beforeAll(async () => {
    web = await startHttpsServer();
  });
  afterAll(async () => {
    await web.close();
  });

  it('discovers the façade from the 401 and its metadata through the OpenID alias under the stage', async () => {
    const response = await fetch(mcpUrl(), { method: 'POST', body: '{}' });
    const resourceMetadata = /resource_metadata="([^"]+)"/.exec(
      response.headers.get('www-authenticate') ?? '',
    )?.[1] as string;
    const resource = (await (await fetch(resourceMetadata)).json()) as {
      authorization_servers: string[];
    };
    const issuer = resource.authorization_servers[0] as string;
    const root = new URL(issuer);
    const inserted = await fetch(
      new URL(`/.well-known/oauth-authorization-server${root.pathname}`, root.origin),
    );
    const alias = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;

    expect(issuer).toBe(harness().gatewayUrl);
    // As on execute-api: the host's root is outside the stage.
    expect(inserted.status).toBe(403);
    expect(alias).toMatchObject({
      issuer,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      registration_endpoint: `${issuer}/oauth/register`,
      authorization_response_iss_parameter_supported: true,
    });
    expect(alias.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('signs up and in with the pre-registered client, calls tools in both eras, and refreshes', async () => {
    const provider = new TestOAuthClient({
      clientId: LOCAL_CLIENT_ID,
      // A loopback redirect URI matches the registered one on any port (RFC 8252).
      redirectUrl: 'http://localhost:43123/oauth/callback',
    });

    const { outcome, whoami, email } = await journey(provider);
    const first = provider.tokens();
    // The access token expires; the SDK refreshes it through the façade.
    provider.saveTokens({ ...(first as NonNullable<typeof first>), access_token: 'expired' });
    const client = await connectWith(provider, 'modern');
    const again = toolOutput(await client.callTool({ name: 'whoami', arguments: {} }));
    await client.close();
    const sub = (await localRegistry().listMembers(whoami[0]?.tenantId as string))[0];

    // Every client is approved by the person, the operator's own too (Cognito's session could
    // otherwise sign them in without a page).
    expect(outcome.pages[0]).toBe('Allow access to your MCP tools?');
    expect(outcome.redirect.searchParams.get('iss')).toBe(harness().gatewayUrl);
    expect(whoami[0]).toMatchObject({ role: 'admin', tier: 'free' });
    expect(whoami[1]).toEqual(whoami[0]);
    expect(sub?.email).toBe(email);
    expect(again.tenantId).toBe(whoami[0]?.tenantId);
    expect(provider.tokens()?.refresh_token).not.toBe(first?.refresh_token);
  });

  it("keeps a client's refresh token through a suspension: refused while suspended, working once resumed", async () => {
    const provider = new TestOAuthClient({
      clientId: LOCAL_CLIENT_ID,
      redirectUrl: 'http://localhost:43124/oauth/callback',
    });
    const { whoami } = await journey(provider);
    const tenantId = whoami[0]?.tenantId as string;
    const refresh = () =>
      fetch(`${harness().gatewayUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: LOCAL_CLIENT_ID,
          refresh_token: provider.tokens()?.refresh_token as string,
        }),
      });

    await localAdmin().suspend(tenantId);
    const refused = await refresh();
    await localAdmin().resume(tenantId);
    const after = await refresh();

    // Cognito keeps a refresh token its pre-token trigger refused once; so does the façade.
    expect(refused.status).toBe(400);
    expect(after.status, await after.clone().text()).toBe(200);
  });

  it('registers dynamically (RFC 7591), asks the person to consent, and calls tools', async () => {
    const provider = new TestOAuthClient({
      redirectUrl: 'http://127.0.0.1:45871/callback',
      clientName: 'DCR test client',
    });

    const { outcome, whoami } = await journey(provider);

    expect(provider.clientInformation()?.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.pages[0]).toBe('Allow access to your MCP tools?');
    expect(whoami[0]).toMatchObject({ role: 'admin' });
  });

  it('uses a Client ID Metadata Document served over https, and calls tools', async () => {
    const redirectUrl = 'http://127.0.0.1:46112/callback';
    const clientId = web.url('/cimd/client.json');
    web.route(
      '/cimd/client.json',
      jsonDocument({
        client_id: clientId,
        client_name: 'CIMD test client',
        redirect_uris: [redirectUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    );
    const provider = new TestOAuthClient({ redirectUrl, clientMetadataUrl: clientId });

    const { outcome, whoami } = await journey(provider);

    // No registration: the client id is the document's URL.
    expect(provider.clientInformation()?.client_id).toBe(clientId);
    expect(outcome.pages[0]).toBe('Allow access to your MCP tools?');
    expect(whoami[0]).toMatchObject({ role: 'admin' });
  });
});
