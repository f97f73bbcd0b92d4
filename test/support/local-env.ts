import { inject } from 'vitest';

/**
 * Runs before each integration test file: the AWS SDK environment points at the stand-ins
 * the global setup started, so the production modules load against them unchanged.
 */
Object.assign(process.env, inject('localAwsEnv'), {
  REGISTRY_TABLE_NAME: inject('tableNames').registry,
  DATA_TABLE_NAME: inject('tableNames').data,
  POWERTOOLS_SERVICE_NAME: 'mcp-saas-test',
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
});
