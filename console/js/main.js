/**
 * The console's shell: configuration, sign-in, the tools this person is served, navigation
 * and routing. Pages live in `pages/`, one module each.
 */

import { completeSignIn, forgetToken, isSignInReturn, startSignIn } from './auth.js';
import { loadConfig } from './config.js';
import { byId, h, replace } from './dom.js';
import { messageOf } from './errors.js';
import { configure, listTools } from './mcp.js';
import { agents } from './pages/agents.js';
import { audit } from './pages/audit.js';
import { integrations } from './pages/integrations.js';
import { members } from './pages/members.js';
import { organisation } from './pages/organisation.js';
import { usage } from './pages/usage.js';

/**
 * @typedef {object} PageContext
 * @property {(tool: string) => boolean} has whether the caller is served a tool
 * @property {import('./mcp.js').ToolInfo[]} tools
 */
/**
 * @typedef {object} Page
 * @property {string} path the route, `#/<path>`
 * @property {string} title its heading and document title
 * @property {string[]} requires tools it needs: without them it is not offered
 * @property {(main: HTMLElement, ctx: PageContext) => unknown} render
 */

/** @type {Page[]} */
const PAGES = [organisation, members, agents, integrations, usage, audit];
const DEFAULT_ROUTE = '#/organisation';
const SESSION_ENDED = 'Your session has ended. Sign in again.';

/** @type {import('./config.js').ConsoleConfig | null} */
let config = null;
/** The tools of the signed-in person; null while signed out. @type {import('./mcp.js').ToolInfo[] | null} */
let tools = null;

const main = () => byId('main');

/** @param {string} title */
function setTitle(title) {
  document.title = `${title} – Tenant console`;
}

/** @param {Page} page */
function allowed(page) {
  return tools !== null && page.requires.every((name) => tools?.some((t) => t.name === name));
}

function renderNav() {
  const list = byId('nav-list');
  replace(
    list,
    ...PAGES.filter(allowed).map((page) =>
      h('li', {}, h('a', { href: `#/${page.path}` }, page.title)),
    ),
  );
  byId('nav').hidden = false;
  byId('sign-out').hidden = false;
}

/** The sign-in screen, with why it is shown (a session that ended, a failed sign-in). */
function showSignIn(/** @type {string} */ message = '') {
  tools = null;
  byId('nav').hidden = true;
  byId('sign-out').hidden = true;
  byId('status').textContent = '';
  const button = h('button', { type: 'button', id: 'sign-in' }, 'Sign in');
  button.addEventListener('click', async () => {
    if (!config) return;
    button.disabled = true;
    try {
      await startSignIn(config);
    } catch {
      button.disabled = false;
    }
  });
  replace(
    main(),
    h('h1', {}, 'Sign in to the tenant console'),
    message && h('p', { id: 'sign-in-message', class: 'notice', role: 'alert' }, message),
    h(
      'p',
      {},
      'Manage your organisation: members, agents, integrations, usage and the audit trail.',
    ),
    button,
  );
  setTitle('Sign in');
}

/** Renders the page the address names. */
function route(focus = true) {
  if (!tools) return;
  const hash = location.hash;
  if (!hash.startsWith('#/')) {
    history.replaceState(null, '', DEFAULT_ROUTE);
    return route(focus);
  }
  const page = PAGES.find((p) => `#/${p.path}` === hash);
  for (const link of byId('nav-list').querySelectorAll('a')) {
    if (link.getAttribute('href') === hash) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const el = main();
  byId('status').textContent = '';
  if (!page) {
    replace(el, h('h1', {}, 'Page not found'), h('p', {}, 'There is no such page.'));
    setTitle('Page not found');
  } else if (!allowed(page)) {
    replace(
      el,
      h('h1', {}, page.title),
      h('p', { id: 'no-access' }, 'You do not have access to this page.'),
    );
    setTitle(page.title);
  } else {
    replace(el, h('h1', {}, page.title));
    setTitle(page.title);
    const served = tools;
    page.render(el, { has: (name) => served.some((t) => t.name === name), tools: served });
  }
  if (focus) el.focus();
}

async function signedIn() {
  tools = await listTools();
  renderNav();
  route();
}

async function start() {
  byId('skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    main().focus();
  });
  byId('sign-out').addEventListener('click', () => {
    forgetToken();
    showSignIn('You have signed out.');
    main().focus();
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/')) route();
  });
  try {
    config = await loadConfig();
  } catch {
    replace(
      main(),
      h('h1', {}, 'Tenant console'),
      h(
        'p',
        { class: 'error', role: 'alert' },
        'The console could not load its configuration. Reload the page to try again.',
      ),
    );
    return;
  }
  configure(config.mcpUrl, () => {
    showSignIn(SESSION_ENDED);
    main().focus();
  });
  if (!isSignInReturn()) {
    showSignIn();
    return;
  }
  try {
    await completeSignIn(config);
    await signedIn();
  } catch (error) {
    // A session that ended has already shown the sign-in screen with its message.
    if (!document.getElementById('sign-in-message')) {
      forgetToken();
      showSignIn(messageOf(error));
    }
  }
}

start();
