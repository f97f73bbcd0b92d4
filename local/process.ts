import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The project's root folder, whatever the working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LocalProcess {
  readonly pid: number;
  readonly port: number;
  /** The whole JSON line the process printed when it became ready. */
  readonly ready: Readonly<Record<string, unknown>>;
  /** Stops the process by its pid (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL), as Lambda ends an environment mid-request. */
  kill(): Promise<void>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
  /** Where the process's output goes once it is ready. @default 'discard' */
  readonly output?: 'inherit' | 'discard';
  /** Called with every stdout line after the ready line, in order (the gateway's logs). */
  readonly onLine?: (line: string) => void;
  /** How an inherited stdout line is shown. @default as printed */
  readonly formatLine?: (line: string) => string;
}

/**
 * Starts a local stand-in (a TypeScript file under `local/`) as a child process and waits for
 * its first stdout line, a JSON object with the `port` it listens on (on 127.0.0.1).
 */
export async function startLocalProcess(
  script: string,
  args: readonly string[] = [],
  options: StartOptions = {},
): Promise<LocalProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep the tail of stderr to explain a failed start; never let a pipe fill up and block.
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (options.output === 'inherit') process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-4_000);
  });

  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${timeoutMs} ms: ${stderrTail.trim()}`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let first = true;
    // Every line is read as it comes, for as long as the process runs, so none piles up.
    lines.on('line', (line) => {
      if (!first) {
        if (options.output === 'inherit') {
          process.stdout.write(`${options.formatLine ? options.formatLine(line) : line}\n`);
        }
        options.onLine?.(line);
        return;
      }
      first = false;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${script} printed an unexpected first line: ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${script} exited with code ${code} before it was ready: ${stderrTail.trim()}`),
      );
    });
  });

  const pid = child.pid;
  if (pid === undefined) throw new Error(`${script} has no pid`);
  return {
    pid,
    port: Number(ready.port),
    ready,
    stop: () => stopChild(child),
    kill: () => stopChild(child, 0, 'SIGKILL'),
  };
}

async function stopChild(
  child: ChildProcess,
  graceMs = 5_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid as number, signal);
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
