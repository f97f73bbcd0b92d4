import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { TestProject } from 'vitest/node';
import { type Harness, startHarness } from '../../local/harness.js';

/**
 * Integration tests run against the local harness: dynalite, the AWS stand-in, the token
 * issuer and the gateway, each a process on 127.0.0.1 at a random port, started once for the
 * run and stopped by pid afterwards.
 */
let harness: Harness | undefined;
let certificateDir: string | undefined;
export const AUTHORIZER_CACHE_TTL_IN_TESTS = 2;

export async function setup(project: TestProject) {
  // A certificate for localhost that the gateway's handlers trust, so tests can serve client
  // metadata documents over https (the MCP spec and the SDK require https client ids).
  const tls = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  certificateDir = await mkdtemp(join(tmpdir(), 'mcp-test-tls-'));
  const extraCaCerts = join(certificateDir, 'ca.pem');
  await writeFile(extraCaCerts, tls.cert);
  harness = await startHarness({
    mintTokens: true,
    extraCaCerts,
    logLevel: process.env.HARNESS_LOG_LEVEL ?? 'SILENT',
    // Short, so tests can watch a suspension take effect when the cached Allow expires.
    authorizerCacheTtlSeconds: AUTHORIZER_CACHE_TTL_IN_TESTS,
    // API key state is looked up on every request, so a disabled key shows on the next one.
    apiKeyCacheTtlSeconds: 0,
    // The suite's sign-ups stand for many people at many addresses, but all come from
    // 127.0.0.1: the web ACL's per-source limit is sign-up-flood.test.ts's, on a stack of its own.
    signUpRateLimit: 10_000,
  });
  project.provide('authorizerCacheTtlSeconds', AUTHORIZER_CACHE_TTL_IN_TESTS);
  project.provide('tls', { key: tls.private, cert: tls.cert });
  project.provide('harness', {
    gatewayUrl: harness.gatewayUrl,
    issuerUrl: harness.issuerUrl,
    consoleUrl: harness.consoleUrl,
    awsUrl: harness.awsUrl,
    dynamodbUrl: harness.dynamodbUrl,
    env: harness.env,
  });
}

export async function teardown() {
  await harness?.stop();
  if (certificateDir) await rm(certificateDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    authorizerCacheTtlSeconds: number;
    /** A key and certificate for https on localhost that the stack's handlers trust. */
    tls: { key: string; cert: string };
    harness: {
      gatewayUrl: string;
      issuerUrl: string;
      consoleUrl: string;
      awsUrl: string;
      dynamodbUrl: string;
      env: Record<string, string>;
    };
  }
}
