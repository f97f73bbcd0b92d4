import { join } from 'node:path';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { readConfig } from '../shared/platform/config.js';
import { logger, observed } from '../shared/platform/observability.js';
import { CONSOLE_PUBLISHER_CONFIG } from './config.js';
import { handleConsoleEvent } from './publish.js';

/**
 * Publishes the tenant console at deploy time: a CloudFormation custom resource
 * (lib/constructs/console-site.ts) whose bundle carries the console's files (`./console`,
 * copied from the repository's `console/`).
 */
const config = readConfig(CONSOLE_PUBLISHER_CONFIG);
const deps = {
  s3: new S3Client({}),
  cloudfront: new CloudFrontClient({}),
  bucket: config.CONSOLE_BUCKET_NAME,
  distributionId: config.CONSOLE_DISTRIBUTION_ID,
  files: join(import.meta.dirname, 'console'),
  logger,
};

export const handler = middy<CloudFormationCustomResourceEvent, void, Error, Context>()
  .use(observed())
  .handler((event, context) =>
    handleConsoleEvent(event, {
      ...deps,
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
    }),
  );
