import type { TestProject } from 'vitest/node';
import { type Harness, startHarness } from '../../local/harness.js';

/**
 * Integration tests run against the local harness: dynalite, the AWS stand-in, the token
 * issuer and the gateway, each a process on 127.0.0.1 at a random port, started once for the
 * run and stopped by pid afterwards.
 */
let harness: Harness | undefined;
export const AUTHORIZER_CACHE_TTL_IN_TESTS = 2;

export async function setup(project: TestProject) {
  harness = await startHarness({
    logLevel: process.env.HARNESS_LOG_LEVEL ?? 'SILENT',
    // Short, so tests can watch a suspension take effect when the cached Allow expires.
    authorizerCacheTtlSeconds: AUTHORIZER_CACHE_TTL_IN_TESTS,
    // API key state is looked up on every request, so a disabled key shows on the next one.
    apiKeyCacheTtlSeconds: 0,
  });
  project.provide('authorizerCacheTtlSeconds', AUTHORIZER_CACHE_TTL_IN_TESTS);
  project.provide('harness', {
    gatewayUrl: harness.gatewayUrl,
    issuerUrl: harness.issuerUrl,
    awsUrl: harness.awsUrl,
    dynamodbUrl: harness.dynamodbUrl,
    env: harness.env,
  });
}

export async function teardown() {
  await harness?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    authorizerCacheTtlSeconds: number;
    harness: {
      gatewayUrl: string;
      issuerUrl: string;
      awsUrl: string;
      dynamodbUrl: string;
      env: Record<string, string>;
    };
  }
}
