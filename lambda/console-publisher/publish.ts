import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { errorFields } from '../shared/platform/observability.js';
import { CONSOLE_CONTENT_TYPES } from './content-types.js';

export interface PublisherDeps {
  readonly s3: S3Client;
  readonly cloudfront: CloudFrontClient;
  readonly bucket: string;
  readonly distributionId: string;
  /** The folder of the console's static files. */
  readonly files: string;
  readonly logger: Logger;
  /** The invocation's time left (Lambda's `getRemainingTimeInMillis`). */
  readonly remainingTimeMs?: () => number;
}

/**
 * Answers one CloudFormation custom-resource event: on Create and Update, the console's files
 * and then `config.json` (the resource's `config` property) go to the bucket, and CloudFront's
 * cache is cleared; on Delete (the stack deleted, or a failed first create rolled back) every
 * version in the bucket is deleted, so CloudFormation can delete the bucket when it is not kept.
 * CloudFormation is always answered, SUCCESS or FAILED with a generic reason (the detail goes
 * to the log), so a deploy never waits for an hour.
 */
export async function handleConsoleEvent(
  event: CloudFormationCustomResourceEvent,
  deps: PublisherDeps,
): Promise<void> {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'Published';
  try {
    if (event.RequestType === 'Delete') {
      await empty(deps);
    } else {
      // Answered before Lambda stops the invocation, whatever S3 or CloudFront are doing.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        publish(String(event.ResourceProperties.config), deps),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(Object.assign(new Error('out of time'), { name: 'TimeoutError' })),
            Math.max(0, (deps.remainingTimeMs?.() ?? 110_000) - 10_000),
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
  } catch (error) {
    deps.logger.error('Console not published', errorFields(error));
    status = 'FAILED';
    reason = `Console not published: ${(error as Error).name}; see the publisher's log`;
  }
  await respond(event, status, reason, `${deps.bucket}-console`);
}

async function publish(configJson: string, deps: PublisherDeps): Promise<void> {
  JSON.parse(configJson);
  const files = (await readdir(deps.files, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && CONSOLE_CONTENT_TYPES[extname(entry.name)])
    .map((entry) => join(entry.parentPath, entry.name));
  if (files.length === 0) throw new Error(`no console files in ${deps.files}`);
  const put = (key: string, body: Buffer, contentType: string) =>
    deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        CacheControl: key === 'config.json' ? 'no-store' : 'no-cache',
      }),
    );
  for (const file of files) {
    await put(
      relative(deps.files, file),
      await readFile(file),
      CONSOLE_CONTENT_TYPES[extname(file)] as string,
    );
  }
  // The configuration last: the files it points to are in place first.
  await put('config.json', Buffer.from(configJson), CONSOLE_CONTENT_TYPES['.json'] as string);
  await deps.cloudfront.send(
    new CreateInvalidationCommand({
      DistributionId: deps.distributionId,
      InvalidationBatch: {
        CallerReference: `${Date.now()}`,
        Paths: { Quantity: 1, Items: ['/*'] },
      },
    }),
  );
  deps.logger.info('Console published', { files: files.length + 1 });
}

/** Deletes every object version and delete marker of the (versioned) bucket. */
async function empty(deps: PublisherDeps): Promise<void> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  let deleted = 0;
  do {
    const page = await deps.s3.send(
      new ListObjectVersionsCommand({
        Bucket: deps.bucket,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    );
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key as string,
      VersionId: v.VersionId as string,
    }));
    if (objects.length > 0) {
      await deps.s3.send(
        new DeleteObjectsCommand({
          Bucket: deps.bucket,
          Delete: { Objects: objects, Quiet: true },
        }),
      );
      deleted += objects.length;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  deps.logger.info('Console files deleted', { versions: deleted });
}

/** The answer CloudFormation waits for, at the pre-signed URL it gave. */
async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  reason: string,
  physicalId: string,
): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason,
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  // A pre-signed S3 URL: signed without a content type, so none may be sent.
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '' },
    body,
  });
  if (!response.ok) throw new Error(`CloudFormation refused the answer: ${response.status}`);
}
