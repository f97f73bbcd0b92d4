import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_BUNDLING } from '../lib/bundling.js';
import { PROJECT_ROOT } from '../local/process.js';

/**
 * Bundles each Lambda the way the CDK app does (esbuild, ESM, LAMBDA_BUNDLING, AWS SDK bundled,
 * source maps outside the bundle) and measures its size and its cold initialisation:
 * a fresh Node process importing the bundle with the function's configuration, median of 5.
 */
export async function measureBundles(env: Record<string, string>) {
  const lambdas = (await readdir(join(PROJECT_ROOT, 'lambda'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
    .map((entry) => entry.name);
  const out = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
  const entries = lambdas.map((name) => ({
    name,
    entry: join(PROJECT_ROOT, 'lambda', name, 'index.ts'),
  }));
  const rows = [];
  try {
    for (const { name, entry } of entries) {
      const outfile = join(out, `${name.replace(/\W+/g, '-')}.mjs`);
      await build({
        entryPoints: [entry],
        outfile,
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
      const sizeKiB = Math.round((await stat(outfile)).size / 1024);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const run = spawnSync(
          process.execPath,
          [
            '-e',
            `const t=performance.now();await import(${JSON.stringify(outfile)});console.log(performance.now()-t)`,
            '--input-type=module',
          ],
          { env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, encoding: 'utf8' },
        );
        if (run.status !== 0) throw new Error(`${name} bundle failed to load: ${run.stderr}`);
        times.push(Number(run.stdout.trim().split('\n').pop()));
      }
      times.sort((a, b) => a - b);
      rows.push({ name, sizeKiB, coldInitMs: Math.round((times[2] as number) * 10) / 10 });
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  return rows;
}
