import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { readConfig } from '../shared/platform/config.js';
import { errorFields, logger, observed } from '../shared/platform/observability.js';
import { CONSOLE_PUBLISHER_CONFIG } from './config.js';

/**
 * Publishes the tenant console at deploy time (a CloudFormation custom resource): the static
 * files bundled beside this handler (`./console`, copied from the repository's `console/`) and
 * `config.json` from the resource's properties go to the console's bucket, then CloudFront's
 * cache of them is cleared. Delete does nothing (the bucket keeps or loses the files with its
 * own removal policy). Whatever happens, CloudFormation is answered, so a deploy never hangs.
 */
const config = readConfig(CONSOLE_PUBLISHER_CONFIG);
const s3 = new S3Client({});
const cloudfront = new CloudFrontClient({});
const FILES = join(import.meta.dirname, 'console');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

export const handler = middy<CloudFormationCustomResourceEvent, void, Error, Context>()
  .use(observed())
  .handler(async (event) => {
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason = 'Published';
    try {
      if (event.RequestType !== 'Delete') await publish(String(event.ResourceProperties.config));
    } catch (error) {
      logger.error('Console not published', errorFields(error));
      status = 'FAILED';
      reason = `Console not published: ${(error as Error).name}; see the function's logs`;
    }
    await respond(event, status, reason);
  });

async function publish(configJson: string): Promise<void> {
  const files = (await readdir(FILES, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && TYPES[extname(entry.name)])
    .map((entry) => join(entry.parentPath, entry.name));
  for (const file of files) {
    await put(relative(FILES, file), await readFile(file), TYPES[extname(file)] as string);
  }
  // The configuration last: the files it points to are in place first.
  JSON.parse(configJson);
  await put('config.json', Buffer.from(configJson), TYPES['.json'] as string);
  await cloudfront.send(
    new CreateInvalidationCommand({
      DistributionId: config.CONSOLE_DISTRIBUTION_ID,
      InvalidationBatch: {
        CallerReference: `${Date.now()}`,
        Paths: { Quantity: 1, Items: ['/*'] },
      },
    }),
  );
  logger.info('Console published', { files: files.length + 1 });
}

async function put(key: string, body: Buffer, contentType: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: config.CONSOLE_BUCKET_NAME,
      Key: key,
      Body: body,
      ContentType: contentType,
      CacheControl: key === 'config.json' ? 'no-store' : 'no-cache',
    }),
  );
}

/** The answer CloudFormation waits for, at the pre-signed URL it gave. */
async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  reason: string,
): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason,
    PhysicalResourceId: `${config.CONSOLE_BUCKET_NAME}-console`,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  if (!response.ok) throw new Error(`CloudFormation refused the answer: ${response.status}`);
}
