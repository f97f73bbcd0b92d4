import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/process.js';
import { localAdmin } from '../support/admin.js';
import { acceptInvitation } from '../support/invitations.js';
import { accessToken, callTool, harness, seedTenant } from '../support/mcp.js';
import { uniqueTenantId } from '../support/registry.js';
import { inbox, meteringSettled } from '../support/stand-in.js';

/** Debian's Chromium, installed by .ci/run (no browser download). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Each page's screenshot, kept as a test artefact (not committed). */
const SCREENSHOTS = join(PROJECT_ROOT, 'test-artifacts', 'console');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'Correct-Horse-Battery-9';
/** Stored content that would run if the console ever built markup from data. */
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

interface Watched {
  readonly page: Page;
  /** What the page reported: CSP violations and script errors. */
  readonly problems: string[];
}

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')(
  'the tenant console in a real browser',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** A fresh browser profile on the console, its problems collected. */
    async function open(): Promise<Watched> {
      const context = await browser.newContext();
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('dialog', (dialog) => {
        problems.push(`dialog: ${dialog.message()}`);
        void dialog.dismiss();
      });
      await page.goto(`${harness().consoleUrl}/`);
      return { page, problems };
    }

    /** Signs in from the console through the façade (consent) and the sign-in pages. */
    async function signIn(page: Page, email: string, signUpAs?: string): Promise<void> {
      await page.click('#sign-in');
      await page.click('#allow');
      if (signUpAs) {
        await page.click('#signup-link');
        await page.fill('#organization', signUpAs);
        await page.fill('#email', email);
        await page.fill('#password', PASSWORD);
        await page.click('button[type=submit]');
        await page.waitForSelector('#code');
        await page.fill('#code', /(\d{6})/.exec((await inbox(email)) ?? '')?.[1] ?? '');
        await page.click('button[type=submit]');
      } else {
        // Signed in already at the sign-in pages (their session): straight back to the console.
        const shown = await Promise.race([
          page.waitForSelector('#email').then(() => 'login'),
          page.waitForSelector('#org-name').then(() => 'console'),
        ]);
        if (shown === 'login') {
          await page.fill('#email', email);
          await page.fill('#password', PASSWORD);
          await page.click('button[type=submit]');
        }
      }
      await page.waitForSelector('#org-name', { timeout: 15_000 });
    }

    async function visit(page: Page, route: string, ready: string): Promise<void> {
      await page.click(`a[href="#/${route}"]`);
      await page.waitForSelector(ready);
    }

    /** Serious or critical accessibility violations on the page as it is now (axe-core). */
    async function accessibilityProblems(page: Page): Promise<string[]> {
      // Through the DevTools protocol, which the page's Content-Security-Policy does not govern.
      await page.evaluate(AXE);
      const violations = await page.evaluate(async () => {
        const axe = (
          globalThis as unknown as {
            axe: {
              run: () => Promise<{
                violations: Array<{ id: string; impact: string; nodes: unknown[] }>;
              }>;
            };
          }
        ).axe;
        return (await axe.run()).violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.length,
        }));
      });
      return violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes)`);
    }

    async function shoot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    }

    it('walks an admin through sign-in, members, roles, a webhook, usage and the audit trail, and shows a member less', async () => {
      const domain = `${uniqueTenantId('console')}.example`;
      const adminEmail = `admin@${domain}`;
      const memberEmail = `member@${domain}`;
      const admin = await open();
      const { page } = admin;
      const a11y: Record<string, string[]> = {};

      // Sign-up and sign-in: the organisation page. Sign-ups start on the free tier; the
      // operator moves this one up (webhooks are a paid feature), and the admin signs in again.
      const orgName = `Console Org ${domain.slice(8, 16)}`;
      await signIn(page, adminEmail, orgName);
      expect(await page.textContent('#org-name')).toBe(orgName);
      const tenant = (await localAdmin().list()).find((t) => t.name === orgName);
      await localAdmin().changeTier(tenant?.tenantId as string, 'standard');
      await page.reload();
      await signIn(page, adminEmail);
      await expect.poll(() => page.textContent('#org-tier')).toMatch(/standard/);
      expect(await page.textContent('#my-role')).toMatch(/admin/);
      a11y.organisation = await accessibilityProblems(page);
      await shoot(page, 'organisation');
      // The token is in memory only: nothing in storage any script could read later.
      expect(
        await page.evaluate(() => {
          const w = globalThis as unknown as {
            localStorage: { length: number };
            sessionStorage: { length: number };
            document: { cookie: string };
          };
          return [w.localStorage.length, w.sessionStorage.length, w.document.cookie.length];
        }),
      ).toEqual([0, 0, 0]);

      // Invite a member; the invited person accepts through the link.
      await visit(page, 'members', '#invite-form');
      await page.fill('#invite-email', memberEmail);
      await page.selectOption('#invite-role', 'member');
      await page.click('#invite-submit');
      const link = (await page.waitForSelector('#invite-link')).textContent();
      const accepted = await acceptInvitation(
        (await link) ?? '',
        { email: memberEmail, password: PASSWORD },
        inbox,
      );
      expect(accepted.error).toBeUndefined();
      a11y.members = await accessibilityProblems(page);
      await shoot(page, 'members');

      // The member signs in too, and is shown only what a member may use.
      const member = await open();
      await signIn(member.page, memberEmail);
      const memberLinks = await member.page.$$eval('nav a', (links) =>
        links.map((a) => a.getAttribute('href')),
      );
      expect(memberLinks).toContain('#/organisation');
      for (const adminOnly of ['#/members', '#/agents', '#/integrations', '#/audit']) {
        expect(memberLinks).not.toContain(adminOnly);
      }
      await member.page.goto(`${harness().consoleUrl}/#/audit`);
      a11y.member = await accessibilityProblems(member.page);
      await shoot(member.page, 'member-view');

      // Back to the admin: make the member an admin, then remove them.
      await visit(page, 'organisation', '#org-name');
      await visit(page, 'members', '#members');
      const row = page.locator('#members tbody tr', { hasText: memberEmail });
      await row.locator('select.role').selectOption('admin');
      await row.locator('button.change-role').click();
      await expect.poll(() => row.locator('select.role').inputValue()).toBe('admin');
      await row.locator('button.remove').click();
      await row.locator('button.confirm-remove').click();
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);

      // A webhook: the secret is shown once, never again.
      await visit(page, 'integrations', '#webhook-form');
      await page.fill('#webhook-url', 'http://127.0.0.1:9/hooks/console');
      await page.click('#webhook-submit');
      await page.waitForSelector('#webhook-configured');
      a11y.integrations = await accessibilityProblems(page);
      await shoot(page, 'integrations');

      // An agent, with stored content the console must show as text.
      await visit(page, 'agents', '#agent-form');
      await page.fill('#agent-name', 'Console agent');
      await page.check('#agent-tool-whoami');
      await page.click('#agent-submit');
      await page.waitForSelector('#agent-secret:not([hidden])');
      a11y.agents = await accessibilityProblems(page);
      await shoot(page, 'agents');

      // Usage once metered: the chart and the budget gauge.
      await meteringSettled();
      await visit(page, 'organisation', '#org-name');
      await visit(page, 'usage', '#usage-chart');
      expect(await page.locator('#usage-table tbody tr').count()).toBeGreaterThan(0);
      expect(Number(await page.getAttribute('#budget', 'value'))).toBeGreaterThan(0);
      a11y.usage = await accessibilityProblems(page);
      await shoot(page, 'usage');

      // The audit trail: every step above, filterable.
      await visit(page, 'audit', '#audit-filters');
      await page.waitForSelector('#audit tbody tr');
      const actions = await page.$$eval('#audit tbody tr', (rows) =>
        rows.map((r) => r.textContent ?? ''),
      );
      for (const done of [
        'tenant_users_invite',
        'tenant_users_set_role',
        'tenant_users_remove',
        'integrations_set',
        'agents_create',
      ]) {
        expect(actions.some((text) => text.includes(done))).toBe(true);
      }
      // Actors by pseudonym, with the member's address beside it while they are a member.
      expect(actions.some((text) => text.includes(`${adminEmail} (u_`))).toBe(true);
      await page.fill('#audit-action', 'tenant_users_remove');
      await page.click('#audit-apply');
      await expect.poll(() => page.locator('#audit tbody tr').count()).toBe(1);
      a11y.audit = await accessibilityProblems(page);
      await shoot(page, 'audit');

      expect(a11y).toEqual({
        organisation: [],
        members: [],
        member: [],
        integrations: [],
        agents: [],
        usage: [],
        audit: [],
      });
      expect([...admin.problems, ...member.problems]).toEqual([]);
    }, 180_000);

    it('shows stored HTML and script as text on every page that shows it', async () => {
      const tenant = await seedTenant('console-xss', { tier: 'premium' });
      const token = await accessToken(tenant);
      // Client-chosen strings that reach the console: tool names and ids in the audit trail.
      await callTool(token, HOSTILE, {});
      await callTool(token, 'notes_get', { id: HOSTILE });
      await meteringSettled();
      const { page, problems } = await open();
      // The seeded admin has no password: sign in as a browser cannot, with a minted token
      // handed to the console's own token exchange instead.
      await page.route('**/oauth/token', (route) =>
        route.fulfill({
          status: 200,
          contentType: 'application/json',
          headers: { 'access-control-allow-origin': '*' },
          body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 900 }),
        }),
      );
      await page.route('**/oauth/authorize?**', async (route) => {
        const url = new URL(route.request().url());
        const back = new URL(url.searchParams.get('redirect_uri') ?? '');
        back.searchParams.set('code', 'minted');
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        back.searchParams.set('iss', harness().gatewayUrl);
        await route.fulfill({ status: 302, headers: { location: back.href } });
      });
      await page.click('#sign-in');
      await page.waitForSelector('#org-name');
      await visit(page, 'audit', '#audit tbody tr');
      const text = await page.textContent('#audit');
      expect(text).toContain(HOSTILE.slice(0, 40));
      expect(
        await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned),
      ).toBeUndefined();
      expect(await page.locator('#audit img, #audit script').count()).toBe(0);
      expect(problems).toEqual([]);
    }, 60_000);
  },
);
