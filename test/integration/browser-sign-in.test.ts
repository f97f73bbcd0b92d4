import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, harness, toolOutput } from '../support/mcp.js';
import { uniqueTenantId } from '../support/registry.js';
import { inbox } from '../support/stand-in.js';

/** Debian's Chromium, installed by .ci/run (no browser download). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const REDIRECT = 'http://localhost:6274/oauth/callback';

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

    it('signs an organisation up, completes the PKCE flow, and calls MCP tools with the token', async () => {
      const email = `founder@${uniqueTenantId('browser')}.example`;
      const password = 'Correct-Horse-Battery-9';
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const page = await browser.newPage();
      // The MCP client's redirect URI: answered here, never sent anywhere.
      let callback: URL | undefined;
      await page.route(`${REDIRECT}**`, async (route) => {
        callback = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Signed in.</p>' });
      });

      await page.goto(
        `${harness().issuerUrl}/oauth2/authorize?${new URLSearchParams({
          client_id: 'local-mcp-client',
          redirect_uri: REDIRECT,
          response_type: 'code',
          scope: 'openid email mcp/invoke',
          state: 'browser-state',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        })}`,
      );
      await page.click('#signup-link');
      await page.fill('#organization', 'Browser Org');
      await page.fill('#email', email);
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForSelector('#code');
      await page.fill('#code', /(\d{6})/.exec((await inbox(email)) ?? '')?.[1] ?? '');
      await page.click('button[type=submit]');
      await page.waitForSelector('text=Your account is confirmed');
      await page.fill('#email', email);
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForSelector('text=Signed in.');
      await page.close();

      expect(callback?.searchParams.get('state')).toBe('browser-state');
      const tokens = (await (
        await fetch(`${harness().issuerUrl}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: 'local-mcp-client',
            code: callback?.searchParams.get('code') ?? '',
            redirect_uri: REDIRECT,
            code_verifier: verifier,
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
