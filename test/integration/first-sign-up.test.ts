import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID } from '../../local/harness.js';
import { mcpUrl, toolOutput } from '../support/mcp.js';
import { signIn, TestOAuthClient } from '../support/oauth-client.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';

/**
 * Deploy day as the first tenant lives it, end to end on the local stack: an MCP client sends
 * a brand-new person to sign up, Managed Login signs them in as soon as the e-mailed code is
 * accepted (while the provisioner is still creating the organisation's keys), and the first
 * tool call is served. Every step works the first time: the browser flow fails on any
 * refusal, and the person sees each page once.
 */
describe('a brand-new organisation on the first try', () => {
  it('signs up, is signed in at once, and is served its first tool call', async () => {
    const organization = uniqueTenantId('dayone');
    const provider = new TestOAuthClient({
      clientId: LOCAL_CLIENT_ID,
      redirectUrl: 'http://127.0.0.1:43999/oauth/callback',
    });

    const outcome = await signIn(provider, {
      email: `founder@${organization}.example`,
      password: 'Correct-Horse-Battery-9',
      signUpAs: `${organization} Org`,
    });
    const client = new Client({ name: 'day-one', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl()), { authProvider: provider }),
    );
    const note = toolOutput(
      await client.callTool({ name: 'notes_create', arguments: { title: 'Hello', body: 'first' } }),
    );
    const whoami = toolOutput(await client.callTool({ name: 'whoami', arguments: {} }));
    await client.close();

    expect(outcome.redirect.searchParams.get('code')).toBeTruthy();
    expect(outcome.pages).toEqual([
      'Allow access to your MCP tools?',
      'Sign in',
      'Sign up',
      'Confirm your e-mail',
    ]);
    expect(note).toMatchObject({ title: 'Hello' });
    expect(whoami).toMatchObject({ role: 'admin', tier: 'free' });
    const tenant = await localRegistry().getTenant(whoami.tenantId as string);
    expect(tenant).toMatchObject({ name: `${organization} Org`, status: 'ACTIVE' });
  });
});
