/**
 * `npm run dev`: the whole stack on 127.0.0.1, with two demo tenants.
 *
 *   npm run dev              keep data in .dev-data/ across restarts
 *   npm run dev -- --reset   start from empty tables
 *   npm run dev -- --port 3000   (default 8787)
 *
 * Starts dynalite, the AWS stand-in, the token issuer and the gateway (each a process, all
 * stopped by pid on Ctrl-C), creates the demo tenants `acme` (standard tier) and `globex`
 * (free tier) with an admin each, and prints the MCP URL and a bearer token per admin.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDocumentClient } from '../lambda/shared/aws-clients.js';
import { TenantRegistry } from '../lambda/shared/registry.js';
import type { TierName } from '../lambda/shared/tiers.js';
import { startHarness } from './harness.js';
import { PROJECT_ROOT } from './process.js';
import { seedTenant } from './seed.js';

const { values } = parseArgs({
  options: {
    reset: { type: 'boolean', default: false },
    port: { type: 'string', default: '8787' },
  },
});

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

const dataPath = join(PROJECT_ROOT, '.dev-data', 'dynamodb');
if (values.reset) await rm(dataPath, { recursive: true, force: true });

const started = Date.now();
const harness = await startHarness({
  dataPath,
  output: 'inherit',
  logLevel: 'INFO',
  gatewayPort: values.port,
});
let stopping = false;
const harnessFile = join(PROJECT_ROOT, '.dev-data', 'harness.json');
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
// For `npm run tenant -- --local ...`: how to reach this running stack.
await writeFile(harnessFile, JSON.stringify(harness.env, null, 2));
const registry = new TenantRegistry(
  createDocumentClient(),
  harness.env.REGISTRY_TABLE_NAME as string,
);
const tokens: string[] = [];
for (const demo of DEMO) {
  const existing = (await registry.listMembers(demo.tenantId))[0];
  const sub =
    existing?.userSub ??
    (
      await seedTenant(registry, {
        tenantId: demo.tenantId,
        name: demo.name,
        tier: demo.tier,
        adminEmail: demo.email,
      })
    ).sub;
  const response = await fetch(`${harness.issuerUrl}/local/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, expiresIn: 12 * 3600 }),
  });
  const { access_token } = (await response.json()) as { access_token: string };
  tokens.push(`  ${demo.tenantId} (${demo.tier}, admin ${demo.email}):\n    ${access_token}`);
}

const mcpUrl = `${harness.gatewayUrl}/mcp`;
process.stdout.write(`
Multi-tenant MCP server running locally (started in ${((Date.now() - started) / 1000).toFixed(1)} s)

  MCP endpoint:   ${mcpUrl}
  Token issuer:   ${harness.issuerUrl}
  Data:           ${values.reset ? 'reset, ' : ''}kept in .dev-data/ (npm run dev -- --reset to start empty)

Bearer tokens (valid 12 hours):
${tokens.join('\n')}

Try it:
  curl -s ${mcpUrl} -H "Authorization: Bearer <token>" \\
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\
    -H 'MCP-Protocol-Version: 2025-06-18' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'

  Tenants:        npm run tenant -- list --local   (show, tier, suspend, resume, offboard, invite)

  MCP Inspector: npx @modelcontextprotocol/inspector, transport "Streamable HTTP",
  URL ${mcpUrl}, and under Authentication a custom header
  "Authorization: Bearer <token>".

Press Ctrl-C to stop.
`);
