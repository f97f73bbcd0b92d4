import { describe, expect, it } from 'vitest';
import { type CookieJar, completeInBrowser } from '../support/browser-flow.js';
import {
  authorizationCode,
  authorizationCodeAtOnce,
  CLIENT_ID,
  flow,
  issuer,
  PASSWORD,
  pkce,
  post,
  REDIRECT,
  signUpThroughPages,
} from '../support/managed-login.js';
import { connect, harness, toolOutput } from '../support/mcp.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';
import { inbox } from '../support/stand-in.js';

describe('local Managed Login, as strict as Cognito', () => {
  it('publishes only OpenID discovery, without PKCE methods or a registration endpoint', async () => {
    const metadata = (await (
      await fetch(`${issuer()}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    const rfc8414 = await fetch(`${issuer()}/.well-known/oauth-authorization-server`);

    expect(metadata).toMatchObject({
      issuer: issuer(),
      authorization_endpoint: `${issuer()}/oauth2/authorize`,
      token_endpoint: `${issuer()}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    // What MCP clients need and Cognito lacks: the reason the façade exists.
    expect(metadata).not.toHaveProperty('code_challenge_methods_supported');
    expect(metadata).not.toHaveProperty('registration_endpoint');
    expect(metadata).not.toHaveProperty('client_id_metadata_document_supported');
    expect(rfc8414.status).toBe(404);
  });

  it('signs the person in right after the confirmation code, as Managed Login does', async () => {
    const email = `founder@${uniqueTenantId('autosignin')}.example`;
    const { challenge } = pkce();

    const confirmed = await signUpThroughPages(email, 'Auto Org', challenge);

    // A code at once: the first sign-in right after sign-up is not refused.
    const location = new URL(confirmed.headers.get('location') as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT());
    expect(location.searchParams.get('code')).toBeTruthy();
  });

  it('signs a browser with a session in again without a page, as Managed Login does', async () => {
    const org = uniqueTenantId('session');
    const browser: CookieJar = new Map();
    const stack = { origins: [new URL(issuer()).origin], inbox, jar: browser };
    const url = () => `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(pkce().challenge))}`;

    const first = await completeInBrowser(
      url(),
      { email: `founder@${org}.example`, password: PASSWORD, signUpAs: org },
      stack,
    );
    const again = await completeInBrowser(url(), { email: '', password: '' }, stack);
    const otherBrowser = await fetch(url());

    expect(first.pages).toContain('Sign up');
    expect(again.pages).toEqual([]);
    expect(again.redirect.searchParams.get('code')).toBeTruthy();
    expect(await otherBrowser.text()).toContain('<form method="post" action="/oauth2/authorize">');
  });

  it('refuses a resource indicator that names no resource server of the pool', async () => {
    const email = `user@${uniqueTenantId('oauth-res')}.example`;
    const { verifier, challenge } = pkce();
    await signUpThroughPages(email, 'Resource Org', challenge);
    const resource = `${harness().gatewayUrl}/mcp`;

    const authorize = await fetch(
      `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(challenge, { resource }))}`,
      { redirect: 'manual' },
    );
    const code = new URL(
      await authorizationCodeAtOnce(email, PASSWORD, challenge),
    ).searchParams.get('code') as string;
    const token = await post('/oauth2/token', {
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      code,
      redirect_uri: REDIRECT(),
      code_verifier: verifier,
      resource,
    });

    expect(new URL(authorize.headers.get('location') as string).searchParams.get('error')).toBe(
      'invalid_request',
    );
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it("matches callback URLs exactly: an MCP client's own redirect URI is not the app client's", async () => {
    for (const redirect_uri of [
      'http://localhost:6274/oauth/callback',
      `${REDIRECT()}/`,
      REDIRECT().replace('/v1/', '/'),
    ]) {
      const page = await fetch(
        `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(pkce().challenge, { redirect_uri }))}`,
        { redirect: 'manual' },
      );

      expect(page.status).toBe(400);
      expect(page.headers.get('location')).toBeNull();
    }
  });

  it('signs up, signs in with PKCE, calls MCP with the token, and refreshes it once', async () => {
    const email = `founder@${uniqueTenantId('oauth')}.example`;
    const { verifier, challenge } = pkce();
    await signUpThroughPages(email, 'OAuth Org', challenge);
    const signInPage = await fetch(
      `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(challenge))}`,
    );
    expect(await signInPage.text()).toContain('<form method="post" action="/oauth2/authorize">');

    const redirect = new URL(await authorizationCodeAtOnce(email, PASSWORD, challenge));
    const sub = (await (
      await fetch(`${harness().awsUrl}/__stand-in/sign-in`, {
        method: 'POST',
        body: JSON.stringify({ username: email, password: PASSWORD }),
      })
    ).json()) as { sub: string };
    const tenantId = (await localRegistry().getMembership(sub.sub))?.tenantId as string;
    const tokens = (await (
      await post('/oauth2/token', {
        grant_type: 'authorization_code',
        client_id: CLIENT_ID,
        code: redirect.searchParams.get('code') as string,
        redirect_uri: REDIRECT(),
        code_verifier: verifier,
      })
    ).json()) as { access_token: string; refresh_token: string };
    const client = await connect(tokens.access_token, 'modern');
    const me = toolOutput(await client.callTool({ name: 'whoami', arguments: {} }));
    await client.close();
    const refreshed = await post('/oauth2/token', {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: tokens.refresh_token,
    });
    const replayed = await post('/oauth2/token', {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: tokens.refresh_token,
    });

    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT());
    expect(redirect.searchParams.get('state')).toBe('state-123');
    expect(me).toMatchObject({ tenantId, role: 'admin', tier: 'free' });
    expect(refreshed.status).toBe(200);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_grant' });
  });

  describe('refuses, with the errors of RFC 6749 and never a token', () => {
    const existing = async () => {
      const email = `user@${uniqueTenantId('oauth-err')}.example`;
      const { challenge } = pkce();
      await signUpThroughPages(email, 'Errors Org', challenge);
      return email;
    };
    const exchange = (code: string, verifier: string, redirect = REDIRECT()) =>
      post('/oauth2/token', {
        grant_type: 'authorization_code',
        client_id: CLIENT_ID,
        code,
        redirect_uri: redirect,
        code_verifier: verifier,
      });

    it('a wrong PKCE verifier, which also spends the code', async () => {
      const email = await existing();
      const { verifier, challenge } = pkce();
      const code = new URL(
        await authorizationCodeAtOnce(email, PASSWORD, challenge),
      ).searchParams.get('code') as string;

      const wrong = await exchange(code, pkce().verifier);
      const right = await exchange(code, verifier);

      expect(wrong.status).toBe(400);
      expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await right.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('a code used twice, revoking the refresh token it produced', async () => {
      const email = await existing();
      const { verifier, challenge } = pkce();
      const code = new URL(
        await authorizationCodeAtOnce(email, PASSWORD, challenge),
      ).searchParams.get('code') as string;

      const first = await exchange(code, verifier);
      const { refresh_token } = (await first.json()) as { refresh_token: string };
      const again = await exchange(code, verifier);
      const refresh = await post('/oauth2/token', {
        grant_type: 'refresh_token',
        client_id: CLIENT_ID,
        refresh_token,
      });

      expect(first.status).toBe(200);
      expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('a scope the server does not support', async () => {
      const response = await fetch(
        `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(pkce().challenge, { scope: 'openid admin:everything' }))}`,
        { redirect: 'manual' },
      );

      expect(new URL(response.headers.get('location') as string).searchParams.get('error')).toBe(
        'invalid_scope',
      );
    });

    it('a redirect URI the client did not register, without redirecting to it', async () => {
      const page = await fetch(
        `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(pkce().challenge, { redirect_uri: 'https://evil.example.com/cb' }))}`,
        { redirect: 'manual' },
      );

      expect(page.status).toBe(400);
      expect(page.headers.get('location')).toBeNull();
      expect(await page.text()).toContain('not registered');
    });

    it('a request without PKCE, or with the plain method', async () => {
      const cases: Array<Record<string, string>> = [
        { code_challenge: '' },
        { code_challenge_method: 'plain' },
      ];
      for (const overrides of cases) {
        const response = await fetch(
          `${issuer()}/oauth2/authorize?${new URLSearchParams(flow(pkce().challenge, overrides))}`,
          { redirect: 'manual' },
        );
        const location = new URL(response.headers.get('location') as string);

        expect(location.searchParams.get('error')).toBe('invalid_request');
      }
    });

    it('a wrong password, with a generic message and no code', async () => {
      const email = await existing();

      const { response, location } = await authorizationCode(
        email,
        'Wrong-Password-123',
        pkce().challenge,
      );

      expect(location).toBeNull();
      expect(await response.text()).toContain('Incorrect username or password.');
    });

    it('an unconfirmed user', async () => {
      const email = `pending@${uniqueTenantId('oauth-unc')}.example`;
      const { challenge } = pkce();
      await post('/signup', {
        ...flow(challenge),
        email,
        password: PASSWORD,
        organization: 'Pending',
      });

      const { response, location } = await authorizationCode(email, PASSWORD, challenge);

      expect(location).toBeNull();
      expect(await response.text()).toContain('User is not confirmed.');
    });

    it('an unsupported grant type and an unknown client', async () => {
      const grant = await post('/oauth2/token', {
        grant_type: 'password',
        client_id: CLIENT_ID,
      });
      const client = await post('/oauth2/token', {
        grant_type: 'authorization_code',
        client_id: 'evil',
      });

      expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' });
      expect(client.status).toBe(401);
      expect(await client.json()).toMatchObject({ error: 'invalid_client' });
    });
  });
});
