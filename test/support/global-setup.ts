import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { localAwsEnv } from '../../local/aws-env.js';
import { type LocalProcess, startLocalProcess } from '../../local/process.js';
import { createTables, LOCAL_TABLE_NAMES } from '../../local/tables.js';

/**
 * Integration tests run against a real dynalite process on 127.0.0.1 at a random port,
 * started once for the run and stopped by its pid afterwards.
 */
let dynalite: LocalProcess | undefined;

export async function setup(project: TestProject) {
  dynalite = await startLocalProcess('local/dynalite-server.ts');
  const endpoint = `http://127.0.0.1:${dynalite.port}`;
  const env = localAwsEnv({ dynamodb: endpoint });
  const client = new DynamoDBClient({
    region: env.AWS_REGION,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createTables(client);
  client.destroy();
  project.provide('localAwsEnv', env);
  project.provide('tableNames', LOCAL_TABLE_NAMES);
}

export async function teardown() {
  await dynalite?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    localAwsEnv: Record<string, string>;
    tableNames: { registry: string; data: string };
  }
}
