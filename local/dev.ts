/**
 * `npm run dev`: the whole stack on 127.0.0.1.
 *
 *   npm run dev                   keep data in .dev-data/ across restarts
 *   npm run dev -- --seed         also create two demo tenants and print bearer tokens
 *   npm run dev -- --reset        start from empty tables
 *   npm run dev -- --port 3000    the MCP gateway's port (default 8787; the sign-in server
 *                                 uses the next one, the console the one after)
 *   npm run dev -- --redirect-uri URI   another redirect URI of the pre-registered client
 *                                       (repeatable)
 *   npm run dev -- --data DIR     keep the data somewhere else than .dev-data/
 *   npm run dev -- --json         the handlers' log lines as JSON (default: readable lines)
 *   npm run dev -- --help         the options
 *
 * Starts dynalite, the AWS stand-in, the authorization server and the gateway (each a
 * process, all stopped by pid on Ctrl-C) and prints how to connect an MCP client, which signs
 * up and signs in through the local pages with OAuth (PKCE). With --seed it also creates the
 * demo tenants `acme` (standard tier) and `globex` (free tier) with an admin each and prints a
 * bearer token per admin for scripted clients.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CALLBACK_URLS } from '../lambda/shared/edge/oauth-metadata.js';
import type { TierName } from '../lambda/shared/fair-use/tiers.js';
import { createDocumentClient } from '../lambda/shared/platform/aws-clients.js';
import { TenantRegistry } from '../lambda/shared/registry/registry.js';
import { LOCAL_CLIENT_ID, startHarness } from './harness.js';
import { prettyLogLine } from './log-format.js';
import { printable } from './printable.js';
import { PROJECT_ROOT } from './process.js';
import { seedTenant } from './seed.js';

// The Lambdas run on Node 24; the AWS SDK's warning about this toolchain's Node 20 is noise here
// (the stack's processes get the same setting from the harness).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm run dev [-- options]
  --seed              also create two demo tenants (acme, globex) and print bearer tokens
  --reset             start from empty tables
  --port PORT         the MCP gateway's port (default 8787; sign-in uses the next, the console the one after)
  --redirect-uri URI  another redirect URI of the pre-registered client (repeatable)
  --data DIR          keep the data in DIR instead of .dev-data/
  --json              print the handlers' log lines as JSON (default: one readable line each)
  --help              print this and exit`;

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        reset: { type: 'boolean', default: false },
        seed: { type: 'boolean', default: false },
        'redirect-uri': { type: 'string', multiple: true },
        data: { type: 'string', default: join(PROJECT_ROOT, '.dev-data') },
        port: { type: 'string', default: '8787' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // An unknown or malformed option: say which, show the usage, exit 2 (no stack trace).
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const DEMO: ReadonlyArray<{
  tenantId: string;
  name: string;
  tier: TierName;
  sub: string;
  email: string;
}> = [
  {
    tenantId: 'acme',
    name: 'Acme Corp',
    tier: 'standard',
    sub: '00000000-0000-4000-8000-0000000ac3e0',
    email: 'admin@acme.example',
  },
  {
    tenantId: 'globex',
    name: 'Globex',
    tier: 'free',
    sub: '00000000-0000-4000-8000-0000000610be',
    email: 'admin@globex.example',
  },
];

// The data folder holds every local tenant's key material, secrets and users: owner-only,
// also when it already exists with wider permissions.
await mkdir(values.data, { recursive: true, mode: 0o700 });
await chmod(values.data, 0o700);
const dataPath = join(values.data, 'dynamodb');
if (values.reset) {
  await rm(dataPath, { recursive: true, force: true });
  await rm(join(values.data, 'aws-state.json'), { force: true });
}

const started = Date.now();
const harness = await startHarness({
  dataPath,
  output: 'inherit',
  ...(values.json ? {} : { formatLine: prettyLogLine }),
  logLevel: 'INFO',
  // Tokens without a password only for the demo tenants' banner (see local/auth-server.ts).
  mintTokens: values.seed,
  gatewayPort: values.port,
  authPort: String(Number(values.port) + 1),
  consolePort: String(Number(values.port) + 2),
  redirectUris: values['redirect-uri']
    ? [...DEFAULT_CALLBACK_URLS, ...values['redirect-uri']]
    : undefined,
}).catch((error: Error) => {
  const busy = /already in use/.exec(error.message);
  process.stderr.write(
    busy
      ? `\nCannot start: a port is already in use (${error.message.split('\n')[0]}).\nStop what uses it, or choose other ports: npm run dev -- --port 9000\n`
      : `\nCannot start: ${error.message}\n`,
  );
  process.exit(1);
});
let stopping = false;
const harnessFile = join(values.data, 'harness.json');
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping...\n');
  await rm(harnessFile, { force: true });
  await harness.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

Object.assign(process.env, harness.env);
// For `npm run tenant -- --local ...`: how to reach this running stack (owner-only, as is
// everything in the data folder).
await writeFile(harnessFile, JSON.stringify(harness.env, null, 2), { mode: 0o600 });
await chmod(harnessFile, 0o600); // `mode` applies only to a file that did not exist yet
const registry = new TenantRegistry(
  createDocumentClient(),
  harness.env.REGISTRY_TABLE_NAME as string,
);
const tokens: string[] = [];
for (const demo of values.seed ? DEMO : []) {
  if (!(await registry.getTenant(demo.tenantId))) {
    await seedTenant(registry, {
      tenantId: demo.tenantId,
      name: demo.name,
      tier: demo.tier,
      adminEmail: demo.email,
    });
  }
  tokens.push(await demoLine(demo));
}

/**
 * A demo tenant as it is now (after a restart it may have changed: another tier, its first
 * admin demoted or removed, suspended): its tier, and a token of one of its current admins.
 */
async function demoLine(demo: (typeof DEMO)[number]): Promise<string> {
  const tenant = await registry.getTenant(demo.tenantId);
  const admins = (await registry.listMembers(demo.tenantId)).filter((m) => m.role === 'admin');
  const admin = admins.find((m) => m.email === demo.email) ?? admins[0];
  const heading = `  ${demo.tenantId} (${tenant?.tier ?? '?'}`;
  if (tenant?.status !== 'ACTIVE') return `${heading}): no token, the tenant is ${tenant?.status}`;
  if (!admin) return `${heading}): no token, the tenant has no admin`;
  const response = await fetch(`${harness.issuerUrl}/local/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: admin.userSub, expiresIn: 12 * 3600 }),
  });
  if (!response.ok) return `${heading}): no token (${response.status})`;
  const { access_token } = (await response.json()) as { access_token: string };
  return `${heading}, admin ${printable(admin.email ?? admin.userSub)}):\n    ${access_token}`;
}

const mcpUrl = `${harness.gatewayUrl}/mcp`;
const seeded = tokens.length
  ? `
Demo tenants (--seed), as they are now; bearer tokens valid 12 hours:
${tokens.join('\n')}

  curl -s ${mcpUrl} -H "Authorization: Bearer <token>" \\
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\
    -H 'MCP-Protocol-Version: 2025-06-18' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
`
  : '\nFor demo tenants with ready-made bearer tokens: npm run dev -- --seed\n';
process.stdout.write(`
Multi-tenant MCP server running locally (started in ${((Date.now() - started) / 1000).toFixed(1)} s)

  MCP endpoint:    ${mcpUrl}
  Authorization:   ${harness.gatewayUrl} (the façade: metadata, registration, PKCE; client id
                   ${LOCAL_CLIENT_ID} is pre-registered, or clients register themselves)
  Sign-in pages:   ${harness.issuerUrl} (stands in for Cognito Managed Login)
  Console:         ${harness.consoleUrl}/ (tenant admins: members, agents, usage, audit trail)
  Data:            ${values.reset ? 'reset, ' : ''}kept in ${values.data} (npm run dev -- --reset to start empty)
  Tenants:         npm run tenant -- list --local   (show, tier, suspend, resume, offboard, invite)
  Agents:          npm run tenant -- agent-create <tenant> <name> --tools whoami --local, then
                   curl -u <client id>:<secret> -d grant_type=client_credentials ${harness.gatewayUrl}/oauth/token

Connect an MCP client:
  MCP Inspector:  npx @modelcontextprotocol/inspector, transport "Streamable HTTP", URL
                  ${mcpUrl}, then "Open Auth Settings" > Quick OAuth Flow. It registers
                  itself (approve it on the consent page), or enter client id ${LOCAL_CLIENT_ID}
                  to skip registration. Sign up an organisation on the page that opens; the
                  confirmation code is printed here.
  Other MCP clients on this machine (Claude Code, VS Code, Cursor): the same URL; they
                  discover the authorization server and register or use a metadata document.
                  (Cloud-hosted assistants cannot reach 127.0.0.1.)
${seeded}
Press Ctrl-C to stop.
`);
