/**
 * The esbuild settings of every Lambda bundle, in one place for the CDK app
 * (lib/constructs/handler-function.ts) and for `npm run bench`, which measures the same bundles.
 * Plain values, no CDK import, so the bench can read them without loading aws-cdk-lib.
 */
export const LAMBDA_BUNDLING = {
  target: 'node24',
  minify: true,
  mainFields: ['module', 'main'],
  /** ESM bundles of CommonJS dependencies need a `require`. */
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
} as const;
