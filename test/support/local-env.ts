import { inject } from 'vitest';

/**
 * Runs before each integration test file: the test process gets the handlers' AWS SDK
 * environment, so production modules imported by a test talk to the same stand-ins.
 */
Object.assign(process.env, inject('harness').env, {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
});
