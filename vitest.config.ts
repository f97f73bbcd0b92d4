import { defineConfig } from 'vitest/config';

// The Lambdas run on Node 24; this toolchain's Node 20 warning is noise in test output
// (for the workers below and for the harness the global setup starts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // Synthesizing stacks is CPU-bound: more workers than cores only slows it down.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          // The security suites run on the same local stack (npm run test:security runs only them).
          include: ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // The files share one local stack, and some inject faults into it: one at a time.
          fileParallelism: false,
          setupFiles: ['test/support/local-env.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
