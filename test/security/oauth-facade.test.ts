import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT_ID } from '../../local/harness.js';
import {
  type CookieJar,
  completeInBrowser,
  cookieHeader,
  type Person,
} from '../support/browser-flow.js';
import { jsonDocument, startHttpsServer } from '../support/https-server.js';
import { accessToken, harness, mcpUrl, postMcp, seedTenant } from '../support/mcp.js';
import { localStack } from '../support/oauth-client.js';
import { uniqueTenantId } from '../support/registry.js';

/**
 * Attacks on the authorization façade: stolen and replayed codes, redirect-URI tricks, PKCE
 * downgrades, other servers' resources, hostile metadata documents, registration floods,
 * forged approvals and mix-ups. Each gets the RFC's error and no code or token.
 */
const facade = () => harness().gatewayUrl;
const REDIRECT = 'http://127.0.0.1:48001/callback';
const PASSWORD = 'Correct-Horse-Battery-9';
let person: Person;

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(overrides: Record<string, string> = {}) {
  const params = {
    response_type: 'code',
    client_id: LOCAL_CLIENT_ID,
    redirect_uri: 'http://localhost:6274/oauth/callback',
    scope: 'mcp/invoke',
    state: 'st-1',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    resource: mcpUrl(),
    ...overrides,
  };
  return `${facade()}/oauth/authorize?${new URLSearchParams(params)}`;
}

async function register(redirectUris: string[], extra: Record<string, unknown> = {}) {
  const response = await fetch(`${facade()}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Attack test', redirect_uris: redirectUris, ...extra }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

/** A code for this client, after the person signs in (and consents, if asked). */
async function codeFor(
  clientId: string,
  redirectUri = REDIRECT,
  overrides: Record<string, string> = {},
) {
  const { verifier, challenge } = pkce();
  const { redirect } = await completeInBrowser(
    authorizeUrl({
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      ...overrides,
    }),
    person,
    localStack(),
  );
  return { code: redirect.searchParams.get('code') ?? '', verifier, redirect };
}

async function token(fields: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${facade()}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
  return {
    status: response.status,
    cacheControl: response.headers.get('cache-control'),
    body: (await response.json()) as Record<string, string>,
  };
}

const redeem = (clientId: string, code: string, verifier: string, redirectUri = REDIRECT) =>
  token({
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
  });

/** What a browser sees at the authorization endpoint, without following any redirect. */
async function visit(url: string, cookie?: string) {
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const location = response.headers.get('location');
  return {
    status: response.status,
    location: location ? new URL(location) : null,
    text: await response.text(),
  };
}

/** The person's browser approves the request; returns its cookie and where Cognito is asked. */
async function approve(url: string) {
  const page = await fetch(url, { redirect: 'manual' });
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
  const transaction = /name="transaction" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const allowed = await fetch(`${facade()}/oauth/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ transaction, decision: 'allow' }),
  });
  return { cookie, cognito: new URL(allowed.headers.get('location') as string) };
}

let client: string;
let other: string;

beforeAll(async () => {
  const org = uniqueTenantId('attack');
  person = { email: `victim@${org}.example`, password: PASSWORD, signUpAs: `${org} Org` };
  client = (await register([REDIRECT])).body.client_id as string;
  other = (await register(['http://127.0.0.1:48002/callback'])).body.client_id as string;
  // Sign up once; later sign-ins use the same account.
  await codeFor(client);
  person = { email: person.email, password: PASSWORD };
});

describe('authorization façade under attack', () => {
  describe('codes', () => {
    it('refuses a replayed code and revokes the refresh token its first use produced', async () => {
      const { code, verifier } = await codeFor(client);

      const first = await redeem(client, code, verifier);
      const replay = await redeem(client, code, verifier);
      const refresh = await token({
        grant_type: 'refresh_token',
        client_id: client,
        refresh_token: first.body.refresh_token as string,
      });

      expect(first.status).toBe(200);
      expect(first.cacheControl).toBe('no-store');
      expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('refuses a code redeemed by another client, and the code is spent', async () => {
      const { code, verifier } = await codeFor(client);

      const stolen = await redeem(other, code, verifier, 'http://127.0.0.1:48002/callback');
      const owner = await redeem(client, code, verifier);

      expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(owner).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('refuses a code with another redirect URI, a wrong verifier, or no verifier', async () => {
      for (const attempt of [
        (code: string, verifier: string) =>
          redeem(client, code, verifier, 'http://127.0.0.1:48009/callback'),
        (code: string) => redeem(client, code, pkce().verifier),
        (code: string) =>
          token({
            grant_type: 'authorization_code',
            client_id: client,
            code,
            redirect_uri: REDIRECT,
          }),
      ]) {
        const { code, verifier } = await codeFor(client);

        expect(await attempt(code, verifier)).toMatchObject({
          status: 400,
          body: { error: 'invalid_grant' },
        });
      }
    });

    it('refuses a made-up code and an unknown client', async () => {
      expect(
        await redeem(client, randomBytes(32).toString('base64url'), pkce().verifier),
      ).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant' },
      });
      expect(await redeem('no-such-client', 'x', pkce().verifier)).toMatchObject({
        status: 400,
        body: { error: 'invalid_client' },
      });
    });
  });

  describe('the authorization request', () => {
    it('requires PKCE with S256: none, or the plain method, is refused at the client', async () => {
      const downgrades: Array<Record<string, string>> = [
        { code_challenge: '' },
        { code_challenge_method: 'plain' },
      ];
      for (const overrides of downgrades) {
        const { location } = await visit(authorizeUrl(overrides));

        expect(location?.searchParams.get('error')).toBe('invalid_request');
        expect(location?.searchParams.get('iss')).toBe(facade());
        expect(location?.searchParams.has('code')).toBe(false);
      }
    });

    it("refuses another server's resource with invalid_target, at both endpoints", async () => {
      const elsewhere = 'https://mcp.other.example/mcp';
      const page = await visit(authorizeUrl({ resource: elsewhere }));
      const { code, verifier } = await codeFor(client);
      const exchange = await token({
        grant_type: 'authorization_code',
        client_id: client,
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        resource: elsewhere,
      });

      expect(page.location?.searchParams.get('error')).toBe('invalid_target');
      expect(exchange).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    });

    it('refuses scopes it does not have', async () => {
      const { location } = await visit(authorizeUrl({ scope: 'mcp/invoke admin:everything' }));

      expect(location?.searchParams.get('error')).toBe('invalid_scope');
    });

    it('never redirects to a redirect URI the client did not register', async () => {
      const registered = (await register(['https://app.example.com/oauth/cb'])).body
        .client_id as string;
      const tricks = [
        'https://evil.example.com/oauth/cb',
        'https://app.example.com/oauth/cb/../../evil',
        'https://app.example.com/oauth/other',
        'https://app.example.com.evil.example/oauth/cb',
        'https://user@app.example.com/oauth/cb',
        'https://app.example.com/oauth/cb#frag',
        'https://app.example.com/oauth/cb?extra=1',
        // A loopback URI matches on any port only if a loopback URI was registered.
        'http://127.0.0.1:5555/oauth/cb',
        'http://localhost/oauth/cb',
      ];
      for (const redirect_uri of tricks) {
        const page = await visit(authorizeUrl({ client_id: registered, redirect_uri }));

        expect(page.status, redirect_uri).toBe(400);
        expect(page.location).toBeNull();
        expect(page.text).toContain('not registered');
      }
    });

    it('refuses a repeated parameter and an unknown client without redirecting', async () => {
      const repeated = await visit(
        `${authorizeUrl()}&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb`,
      );
      const unknown = await visit(authorizeUrl({ client_id: 'no-such-client' }));

      for (const page of [repeated, unknown]) {
        expect(page.status).toBe(400);
        expect(page.location).toBeNull();
      }
    });
  });

  describe('consent and callback', () => {
    it("refuses an approval posted without the browser's consent cookie (a forged form)", async () => {
      const page = await visit(authorizeUrl({ client_id: client, redirect_uri: REDIRECT }));
      const transaction = /name="transaction" value="([^"]+)"/.exec(page.text)?.[1] as string;

      const forged = await fetch(`${facade()}/oauth/consent`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ transaction, decision: 'allow' }),
      });

      expect(forged.status).toBe(400);
      expect(forged.headers.get('location')).toBeNull();
    });

    it('sends a refusal back to the client when the person denies', async () => {
      const { redirect } = await completeInBrowser(
        authorizeUrl({ client_id: client, redirect_uri: REDIRECT }),
        { ...person, consent: 'deny' },
        localStack(),
      );

      expect(redirect.searchParams.get('error')).toBe('access_denied');
      expect(redirect.searchParams.get('state')).toBe('st-1');
      expect(redirect.searchParams.has('code')).toBe(false);
    });

    it("refuses a Cognito code delivered with another transaction's state (mix-up), and a spent state", async () => {
      // Two approved authorizations reach Cognito; the attacker swaps their states.
      const a = await approve(authorizeUrl());
      const b = await approve(authorizeUrl({ state: 'st-2' }));
      const signedIn = await completeInBrowser(
        b.cognito,
        person,
        localStack([harness().issuerUrl]),
      );
      const cognitoCodeForB = signedIn.redirect.searchParams.get('code') as string;
      const stateA = a.cognito.searchParams.get('state') as string;
      const callback = `${facade()}/oauth/callback?${new URLSearchParams({ code: cognitoCodeForB, state: stateA })}`;

      const swapped = await visit(callback, a.cookie);
      const again = await visit(callback, a.cookie);

      // Cognito refuses B's code under A's PKCE verifier: A's client hears access_denied.
      expect(swapped.location?.searchParams.get('error')).toBe('access_denied');
      expect(swapped.location?.searchParams.get('state')).toBe('st-1');
      expect(swapped.location?.searchParams.has('code')).toBe(false);
      expect(again.status).toBe(400);
    });

    it("refuses Cognito's answer in a browser other than the one that approved (a forwarded sign-in link)", async () => {
      // The attacker approves their own client in their browser, and sends the Cognito link on.
      const attacker = await approve(authorizeUrl({ client_id: client, redirect_uri: REDIRECT }));
      const victim = await completeInBrowser(
        attacker.cognito,
        person,
        localStack([harness().issuerUrl]),
      );

      const landed = await visit(victim.redirect.href);
      const attackerTries = await visit(victim.redirect.href, attacker.cookie);

      expect(landed.status).toBe(400);
      expect(landed.location).toBeNull();
      expect(attackerTries.status).toBe(400);
      expect(attackerTries.location).toBeNull();
    });

    it('refuses a forwarded sign-in link even when Cognito signs the person in without a page', async () => {
      // The person signed in once in their browser: Managed Login keeps a session.
      const browser: CookieJar = new Map();
      await completeInBrowser(authorizeUrl(), person, { ...localStack(), jar: browser });
      const attacker = await approve(authorizeUrl({ client_id: client, redirect_uri: REDIRECT }));

      const silent = await completeInBrowser(attacker.cognito, person, {
        ...localStack([harness().issuerUrl]),
        jar: browser,
      });
      const landed = await visit(silent.redirect.href, cookieHeader(browser, silent.redirect));

      // No page at Cognito: only the façade's per-request cookie stands in the way, and holds.
      expect(silent.pages).toEqual([]);
      expect(silent.redirect.searchParams.get('code')).toBeTruthy();
      expect(landed.status).toBe(400);
      expect(landed.location).toBeNull();
    });

    it("does not redirect to a self-registered client's URI before anyone approved it", async () => {
      const page = await visit(
        authorizeUrl({ client_id: client, redirect_uri: REDIRECT, code_challenge_method: 'plain' }),
      );

      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
    });
  });

  describe('client metadata documents', () => {
    let web: Awaited<ReturnType<typeof startHttpsServer>>;
    beforeAll(async () => {
      web = await startHttpsServer();
    });
    afterAll(async () => {
      await web.close();
    });
    const document = (clientId: string) => ({
      client_id: clientId,
      client_name: 'Doc',
      redirect_uris: [REDIRECT],
    });

    it('refuses a document whose client_id is not its own URL', async () => {
      web.route('/impostor.json', jsonDocument(document('https://claude.ai/oauth/client.json')));

      const page = await visit(
        authorizeUrl({ client_id: web.url('/impostor.json'), redirect_uri: REDIRECT }),
      );

      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
    });

    it('refuses a document on a private address, before connecting', async () => {
      for (const clientId of [
        'https://10.1.2.3/client.json',
        'https://169.254.169.254/latest/meta-data/x',
        'https://[::ffff:a9fe:a9fe]/latest/meta-data/x',
      ]) {
        const started = Date.now();
        const page = await visit(authorizeUrl({ client_id: clientId, redirect_uri: REDIRECT }));

        expect(page.status).toBe(400);
        // Refused by the address check, not after a connection attempt ran into the deadline.
        expect(Date.now() - started).toBeLessThan(1_000);
      }
    });

    it('refuses a document larger than 5 KiB, and one that answers too slowly', async () => {
      web.route(
        '/large.json',
        jsonDocument({ ...document(web.url('/large.json')), padding: 'x'.repeat(6000) }),
      );
      web.route('/slow.json', (_req, res) => {
        setTimeout(() => jsonDocument(document(web.url('/slow.json')))(_req, res), 4_000).unref();
      });

      const large = await visit(
        authorizeUrl({ client_id: web.url('/large.json'), redirect_uri: REDIRECT }),
      );
      const started = Date.now();
      const slow = await visit(
        authorizeUrl({ client_id: web.url('/slow.json'), redirect_uri: REDIRECT }),
      );

      expect(large.status).toBe(400);
      expect(slow.status).toBe(400);
      expect(Date.now() - started).toBeLessThan(3_900);
    });

    it('refuses a client id that is not an https URL with a path and no query', async () => {
      web.route('/query.json', jsonDocument(document(web.url('/query.json?v=1'))));
      for (const clientId of [
        // Not https: not a metadata document, and no client registered under that id.
        'http://localhost/client.json',
        web.url('/'),
        web.url('/query.json?v=1'),
      ]) {
        const page = await visit(authorizeUrl({ client_id: clientId, redirect_uri: REDIRECT }));

        expect(page.status).toBe(400);
      }
    });
  });

  describe('dynamic registration', () => {
    it('refuses dangerous redirect URIs, and registers every client as a public one', async () => {
      for (const uris of [
        ['http://evil.example.com/cb'],
        ['javascript:alert(1)'],
        ['https://app.example.com/cb#fragment'],
        ['https://user:pass@app.example.com/cb'],
        ['ms-msdt:/id PCWDiagnostic'],
        [],
      ]) {
        expect((await register(uris)).body.error).toBe('invalid_redirect_uri');
      }
      const confidential = await register([REDIRECT], {
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      const noCodeFlow = await register([REDIRECT], { grant_types: ['client_credentials'] });

      // RFC 7591 3.2.1: the server registers what it offers (a public client) and says so.
      expect(confidential).toMatchObject({
        status: 201,
        body: {
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
        },
      });
      expect(confidential.body).not.toHaveProperty('client_secret');
      expect(noCodeFlow).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata' } });
    });

    it('bounds a registration flood from one source, and serves other sources meanwhile', async () => {
      // From another loopback address, so the flood spends only its own source's allowance.
      const fromFloodSource = () =>
        new Promise<number>((resolve, reject) => {
          const url = new URL(`${facade()}/oauth/register`);
          const req = request(
            {
              host: url.hostname,
              port: url.port,
              path: url.pathname,
              method: 'POST',
              localAddress: '127.0.0.2',
              headers: { 'content-type': 'application/json' },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ redirect_uris: [REDIRECT] }));
        });
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push(await fromFloodSource());
      const neighbour = await register([REDIRECT]);

      expect(statuses.slice(0, 20).every((status) => status === 201)).toBe(true);
      expect(statuses[20]).toBe(429);
      expect(neighbour.status).toBe(201);
    });
  });

  describe('tokens reaching the MCP endpoint', () => {
    it('refuses a token the same user pool issued to another client', async () => {
      const user = await seedTenant('other-client');

      const reply = await postMcp(
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        {
          authorization: `Bearer ${await accessToken(user, { clientId: 'another-app-client' })}`,
          'mcp-protocol-version': '2025-06-18',
        },
      );

      expect(reply.status).toBe(401);
    });

    it('refuses a token bound (aud) to another resource', async () => {
      const user = await seedTenant('other-aud');

      const reply = await postMcp(
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        {
          authorization: `Bearer ${await accessToken(user, { claims: { aud: 'https://mcp.other.example/mcp' } })}`,
          'mcp-protocol-version': '2025-06-18',
        },
      );
      const ours = await postMcp(
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        {
          authorization: `Bearer ${await accessToken(user, { claims: { aud: mcpUrl() } })}`,
          'mcp-protocol-version': '2025-06-18',
        },
      );

      expect(reply.status).toBe(401);
      expect(ours.status).toBe(200);
    });

    it('refuses a refresh token presented by another client, without spending it', async () => {
      const { code, verifier } = await codeFor(client);
      const { body } = await redeem(client, code, verifier);

      const stolen = await token({
        grant_type: 'refresh_token',
        client_id: other,
        refresh_token: body.refresh_token as string,
      });
      const owner = await token({
        grant_type: 'refresh_token',
        client_id: client,
        refresh_token: body.refresh_token as string,
      });
      const rotatedAway = await token({
        grant_type: 'refresh_token',
        client_id: client,
        refresh_token: body.refresh_token as string,
      });

      expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(owner.status).toBe(200);
      expect(owner.body.refresh_token).not.toBe(body.refresh_token);
      expect(rotatedAway).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('refuses client authentication it does not offer, and grants it does not support', async () => {
      const basic = await token(
        { grant_type: 'authorization_code', client_id: client, code: 'x' },
        { authorization: `Basic ${Buffer.from(`${client}:secret`).toString('base64')}` },
      );
      const password = await token({
        grant_type: 'password',
        client_id: client,
        username: 'a',
        password: 'b',
      });

      expect(basic).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
      expect(password).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    });
  });
});
