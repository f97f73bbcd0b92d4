import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/process.js';
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

describe('npm run dev', () => {
  let data: string;
  afterAll(async () => {
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('stops every process and port on Ctrl-C, and a second start finds the data of the first', async () => {
    data = await mkdtemp(join(tmpdir(), 'dev-data-'));
    const port = await freePortPair();
    const first = await startDev(['--data', data, '--port', String(port), '--seed']);
    const env = JSON.parse(await readFile(join(data, 'harness.json'), 'utf8')) as Record<
      string,
      string
    >;

    expect(first.output()).toContain(`http://127.0.0.1:${port}/v1/mcp`);
    expect(first.output()).toMatch(/acme \(standard, admin admin@acme\.example\):\n\s+eyJ/);
    expect(processesUsing(data).length).toBeGreaterThan(0);
    expect(await stop(first.child)).toBe(0);
    expect(processesUsing(data)).toEqual([]);
    expect(await listening(port)).toBe(false);
    expect(await listening(port + 1)).toBe(false);
    expect(await listening(Number(new URL(env.AWS_ENDPOINT_URL_STS as string).port))).toBe(false);

    const second = await startDev(['--data', data, '--port', String(port)]);
    const reuse = JSON.parse(await readFile(join(data, 'harness.json'), 'utf8')) as Record<
      string,
      string
    >;
    const { TenantRegistry } = await import('../../lambda/shared/registry.js');
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

    expect(ids).toEqual(['acme', 'globex']);
    expect(second.output()).toContain('npm run dev -- --seed');
    expect(await stop(second.child)).toBe(0);
  }, 90_000); // starts and stops the whole stack twice

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
