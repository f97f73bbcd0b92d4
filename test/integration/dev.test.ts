import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/process.js';
import { acceptInvitation } from '../support/invitations.js';
import { freePortPair } from '../support/ports.js';

/** Starts `npm run dev`'s script and resolves once it prints that it is running. */
async function startDev(args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/dev.ts', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`npm run dev did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  return exited;
}

/** Processes whose command line names the data folder (dynalite, the AWS stand-in). */
const processesUsing = (folder: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(folder) && !line.includes('ps -eo'));

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A whoami call with a bearer token, as a 2025-era client sends it. */
async function whoami(port: number, token: string) {
  const response = await fetch(`http://127.0.0.1:${port}/v1/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'whoami', arguments: {} },
    }),
  });
  return { status: response.status, text: await response.text() };
}

/** Waits (up to 10 s) until the condition holds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm run dev', () => {
  let data: string;
  afterAll(async () => {
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('stops every process and port on Ctrl-C, keeps its data owner-only, and a restart finds the data and tells the truth about it', async () => {
    data = await mkdtemp(join(tmpdir(), 'dev-data-'));
    await chmod(data, 0o755);
    const port = await freePortPair();
    const first = await startDev(['--data', data, '--port', String(port), '--seed']);
    const env = JSON.parse(await readFile(join(data, 'harness.json'), 'utf8')) as Record<
      string,
      string
    >;
    const acmeToken = /acme \(standard, admin admin@acme\.example\):\n\s+(eyJ\S+)/.exec(
      first.output(),
    )?.[1] as string;

    expect(first.output()).toContain(`http://127.0.0.1:${port}/v1/mcp`);
    expect(acmeToken).toBeTruthy();
    // The handlers' log lines stream while the stack runs, one readable line each.
    const before = first.output().length;
    const answered = await whoami(port, acmeToken);
    expect(answered.status).toBe(200);
    await until(() =>
      /INFO\s+\[[^\]]+\] MCP request answered\s.*status=200/.test(first.output().slice(before)),
    );
    // Every tenant's keys, secrets and users are in the data folder: owner-only.
    await until(() => existsSync(join(data, 'aws-state.json')));
    expect((await stat(data)).mode & 0o777).toBe(0o700);
    expect((await stat(join(data, 'harness.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(data, 'aws-state.json'))).mode & 0o777).toBe(0o600);
    // While it runs, the operator CLI changes acme: another tier, a new admin, the first demoted.
    const cli = (...args: string[]) =>
      execFileSync(
        process.execPath,
        ['--import', 'tsx', 'cli/tenant.ts', ...args, '--local', '--data', data],
        { cwd: PROJECT_ROOT, encoding: 'utf8' },
      );
    cli('tier', 'acme', 'premium');
    // A new admin joins through an invitation's link, as a person would.
    const link = /\n\s+(http\S+invitations\?code=\S+)/.exec(
      cli('invite', 'acme', 'boss@acme.example', '--role', 'admin'),
    )?.[1] as string;
    const joined = await acceptInvitation(
      link,
      { email: 'boss@acme.example', password: 'Correct-Horse-Battery-9' },
      async (email) =>
        (
          (await (
            await fetch(
              `${env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER}/__stand-in/inbox/${email}`,
            )
          ).json()) as { message: string | null }
        ).message,
    );
    expect(joined.page, joined.error).toBe('Your account is ready');
    cli('role', 'acme', 'admin@acme.example', 'member');
    expect(processesUsing(data).length).toBeGreaterThan(0);
    expect(await stop(first.child)).toBe(0);
    expect(processesUsing(data)).toEqual([]);
    expect(await listening(port)).toBe(false);
    expect(await listening(port + 1)).toBe(false);
    expect(await listening(Number(new URL(env.AWS_ENDPOINT_URL_STS as string).port))).toBe(false);

    // Without --seed: the data is there, and no token is minted for anyone.
    const second = await startDev(['--data', data, '--port', String(port)]);
    const reuse = JSON.parse(await readFile(join(data, 'harness.json'), 'utf8')) as Record<
      string,
      string
    >;
    const { TenantRegistry } = await import('../../lambda/shared/registry/registry.js');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
    const registry = new TenantRegistry(
      DynamoDBDocumentClient.from(
        new DynamoDBClient({
          region: 'us-east-1',
          endpoint: reuse.AWS_ENDPOINT_URL_DYNAMODB,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
      ),
      reuse.REGISTRY_TABLE_NAME as string,
    );
    const ids = (await registry.listTenants()).map((t) => t.tenantId).sort();
    const minted = await fetch(`http://127.0.0.1:${port + 1}/local/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: '00000000-0000-4000-8000-0000000ac3e0' }),
    });

    expect(ids).toEqual(['acme', 'globex']);
    expect(second.output()).toContain('npm run dev -- --seed');
    expect(minted.status).toBe(404);
    expect(await stop(second.child)).toBe(0);

    // With --seed again: the banner shows acme as it is now, and its token is an admin's.
    const third = await startDev(['--data', data, '--port', String(port), '--seed']);
    const bossToken = /acme \(premium, admin boss@acme\.example\):\n\s+(eyJ\S+)/.exec(
      third.output(),
    )?.[1];
    const me = await whoami(port, bossToken ?? '');

    expect(bossToken, third.output()).toBeTruthy();
    expect(JSON.parse(me.text).result.structuredContent).toMatchObject({
      tenantId: 'acme',
      role: 'admin',
      tier: 'premium',
    });
    expect(await stop(third.child)).toBe(0);
  }, 180_000); // starts and stops the whole stack three times

  it('prints its usage for --help (exit 0) and refuses an unknown option (exit 2), never with a stack trace', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'local/dev.ts', ...args], {
          cwd: PROJECT_ROOT,
          env: process.env,
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.once('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const help = await run(['--help']);
    const bogus = await run(['--bogus']);

    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run dev/);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--bogus/);
    expect(bogus.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('says clearly when its port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    const port = await freePortPair();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'dev-busy-'));

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/dev.ts', '--data', dir, '--port', String(port)],
      {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    blocker.close();
    await rm(dir, { recursive: true, force: true });

    expect(code).toBe(1);
    expect(output).toMatch(/port is already in use/);
    expect(output).toContain('npm run dev -- --port');
  });
});
