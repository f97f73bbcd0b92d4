import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, harness, mcpUrl, toolOutput } from '../support/mcp.js';
import { uniqueTenantId } from '../support/registry.js';
import { inbox } from '../support/stand-in.js';

/** Debian's Chromium, installed by .ci/run (no browser download). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A native MCP client's loopback redirect URI. */
const REDIRECT = 'http://127.0.0.1:47213/callback';

// Skipped only outside CI when the browser is missing; .ci/run installs it, so CI always runs it.
describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(
  'sign-up and sign-in in a real browser',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('registers a client, approves it, signs an organisation up through the façade, and calls MCP tools', async () => {
      const email = `founder@${uniqueTenantId('browser')}.example`;
      const password = 'Correct-Horse-Battery-9';
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const facade = harness().gatewayUrl;
      const registration = (await (
        await fetch(`${facade}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_name: 'Browser test client', redirect_uris: [REDIRECT] }),
        })
      ).json()) as { client_id: string };
      const page = await browser.newPage();
      // The MCP client's redirect URI: answered here, never sent anywhere.
      let callback: URL | undefined;
      await page.route(`${REDIRECT}**`, async (route) => {
        callback = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Signed in.</p>' });
      });

      await page.goto(
        `${facade}/oauth/authorize?${new URLSearchParams({
          client_id: registration.client_id,
          redirect_uri: REDIRECT,
          response_type: 'code',
          scope: 'mcp/invoke',
          state: 'browser-state',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: mcpUrl(),
        })}`,
      );
      await page.waitForSelector('text=Browser test client');
      await page.click('#allow');
      await page.click('#signup-link');
      await page.fill('#organization', 'Browser Org');
      await page.fill('#email', email);
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForSelector('#code');
      await page.fill('#code', /(\d{6})/.exec((await inbox(email)) ?? '')?.[1] ?? '');
      await page.click('button[type=submit]');
      // Managed Login signs the person in at once, on the first try: no second sign-in.
      await page.waitForSelector('text=Signed in.', { timeout: 10_000 });
      await page.close();

      expect(callback?.searchParams.get('state')).toBe('browser-state');
      expect(callback?.searchParams.get('iss')).toBe(facade);
      const tokens = (await (
        await fetch(`${facade}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: registration.client_id,
            code: callback?.searchParams.get('code') ?? '',
            redirect_uri: REDIRECT,
            code_verifier: verifier,
            resource: mcpUrl(),
          }),
        })
      ).json()) as { access_token: string };
      const claims = JSON.parse(
        Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString(),
      );
      const client = await connect(tokens.access_token, 'modern');
      const created = toolOutput(
        await client.callTool({
          name: 'notes_create',
          arguments: { title: 'Hello', body: 'from the browser' },
        }),
      );
      const me = toolOutput(await client.callTool({ name: 'whoami', arguments: {} }));
      await client.close();

      expect(claims['custom:tenantId']).toMatch(/^browser-org-[0-9a-f]{8}$/);
      expect(me).toMatchObject({ tenantId: claims['custom:tenantId'], role: 'admin' });
      expect(created.id).toBeDefined();
    });
  },
);
