import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_BUNDLING } from '../lib/bundling.js';
import { PROJECT_ROOT } from '../local/process.js';

export interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly sizeKiB: number;
}

/** Every Lambda of the app (a folder of lambda/ with an index.ts), by folder name. */
export async function lambdaEntries(): Promise<Array<{ name: string; entry: string }>> {
  return (await readdir(join(PROJECT_ROOT, 'lambda'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
    .map((entry) => ({
      name: entry.name,
      entry: join(PROJECT_ROOT, 'lambda', entry.name, 'index.ts'),
    }));
}

/**
 * Bundles each entry the way the CDK app does (esbuild, ESM, LAMBDA_BUNDLING, AWS SDK bundled,
 * source maps outside the bundle) into a temporary folder; `remove` deletes it.
 */
export async function bundle(entries: Array<{ name: string; entry: string }>) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
  const bundles = new Map<string, Bundle>();
  for (const { name, entry } of entries) {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.mjs`);
    await build({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: LAMBDA_BUNDLING.target,
      minify: LAMBDA_BUNDLING.minify,
      sourcemap: 'external',
      mainFields: [...LAMBDA_BUNDLING.mainFields],
      banner: { js: LAMBDA_BUNDLING.banner },
      logLevel: 'silent',
    });
    bundles.set(name, { name, file, sizeKiB: Math.round((await stat(file)).size / 1024) });
  }
  return { bundles, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ColdStart {
  /** From the start of loading the bundle to the module being ready. */
  readonly importMs: number;
  /** From the start of loading the bundle to the handler's answer to the first event. */
  readonly firstAnswerMs?: number;
  /** The handler's answer (of the median run), to check that it really answered. */
  readonly answer?: unknown;
}

const RUNS = 5;

/**
 * Cold initialisation as a new Lambda execution environment sees it: a fresh Node process
 * loads the bundle with the function's configuration and, given an event, invokes the
 * handler once. Median of five processes (by time to answer, else by import).
 */
export function coldStart(
  bundleFile: string,
  env: Record<string, string>,
  event?: unknown,
): ColdStart {
  const runs: ColdStart[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER], {
      env: {
        ...process.env,
        ...env,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        BENCH_BUNDLE: bundleFile,
        ...(event === undefined ? {} : { BENCH_EVENT: JSON.stringify(event) }),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(`${bundleFile} failed: ${run.stderr || run.error}`);
    runs.push(JSON.parse(run.stdout.trim().split('\n').pop() as string) as ColdStart);
  }
  const key = (r: ColdStart) => r.firstAnswerMs ?? r.importMs;
  runs.sort((a, b) => key(a) - key(b));
  const median = runs[Math.floor(RUNS / 2)] as ColdStart;
  return {
    importMs: round(median.importMs),
    ...(median.firstAnswerMs === undefined ? {} : { firstAnswerMs: round(median.firstAnswerMs) }),
    ...(median.answer === undefined ? {} : { answer: median.answer }),
  };
}

/** What runs in the fresh process: load, invoke once with a Lambda-shaped context, report. */
const RUNNER = `
const start = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE);
const importMs = performance.now() - start;
const report = { importMs };
if (process.env.BENCH_EVENT) {
  const deadline = Date.now() + 30000;
  report.answer = await handler(JSON.parse(process.env.BENCH_EVENT), {
    functionName: 'bench', functionVersion: '$LATEST', memoryLimitInMB: '256',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
    awsRequestId: crypto.randomUUID(), logGroupName: '/aws/lambda/bench', logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => deadline - Date.now(),
  });
  report.firstAnswerMs = performance.now() - start;
}
process.stdout.write(JSON.stringify(report) + '\\n', () => process.exit(0));
`;

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
