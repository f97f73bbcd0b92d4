import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleConsoleEvent } from '../../lambda/console-publisher/publish.js';
import { PROJECT_ROOT } from '../../local/process.js';

/**
 * The console publisher (a CloudFormation custom resource) against a server on 127.0.0.1 that
 * answers as S3 (PutObject), CloudFront (CreateInvalidation) and CloudFormation's pre-signed
 * response URL do, recording each request: what is put, in which order, and that CloudFormation
 * is always answered (a custom resource that never answers holds a deploy for an hour).
 */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

describe('the console publisher', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let failPuts = false;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const path = req.url ?? '';
      seen.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (path.startsWith('/bucket/?') && /[?&]versions=/.test(path)) {
        // Two versions and a delete marker, over two pages.
        const second = path.includes('key-marker=');
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          second
            ? '<ListVersionsResult><IsTruncated>false</IsTruncated><DeleteMarker><Key>old.js</Key><VersionId>v3</VersionId></DeleteMarker></ListVersionsResult>'
            : '<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>index.html</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker><Version><Key>index.html</Key><VersionId>v1</VersionId></Version><Version><Key>index.html</Key><VersionId>v2</VersionId></Version></ListVersionsResult>',
        );
        return;
      }
      if (path.startsWith('/bucket/?delete')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end('<DeleteResult></DeleteResult>');
        return;
      }
      if (path.startsWith('/bucket/')) {
        if (failPuts) {
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
          return;
        }
        res.writeHead(200, { etag: '"1"' }).end();
      } else if (path.includes('/invalidation')) {
        res.writeHead(201, { 'content-type': 'text/xml', location: `${base}/i/1` });
        res.end(
          '<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I1</Id><Status>InProgress</Status><CreateTime>2026-12-02T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/*</Path></Items></Paths><CallerReference>x</CallerReference></InvalidationBatch></Invalidation>',
        );
      } else {
        res.writeHead(200).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const deps = () => ({
    s3: new S3Client({ region: 'us-east-1', endpoint: base, forcePathStyle: true, credentials }),
    cloudfront: new CloudFrontClient({ region: 'us-east-1', endpoint: base, credentials }),
    bucket: 'bucket',
    distributionId: 'E123',
    files: join(PROJECT_ROOT, 'console'),
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  const event = (type: 'Create' | 'Update' | 'Delete') =>
    ({
      RequestType: type,
      ResponseURL: `${base}/cfn-response?signed=1`,
      StackId: 'stack',
      RequestId: `request-${type}`,
      LogicalResourceId: 'ConsolePublished',
      ResourceType: 'Custom::ConsoleFiles',
      ServiceToken: 'arn',
      ResourceProperties: { ServiceToken: 'arn', config: '{"clientId":"tenant-console"}' },
      ...(type === 'Create'
        ? {}
        : { PhysicalResourceId: 'bucket-console', OldResourceProperties: {} }),
    }) as unknown as CloudFormationCustomResourceEvent;
  const answers = () =>
    seen
      .filter((s) => s.path.startsWith('/cfn-response'))
      .map((s) => JSON.parse(s.body) as { Status: string; Reason: string; RequestId: string });

  it('puts every file with its type, config.json last, clears the cache, and answers SUCCESS', async () => {
    seen.length = 0;
    await handleConsoleEvent(event('Create'), deps());
    const puts = seen.filter((s) => s.method === 'PUT' && s.path.startsWith('/bucket/'));
    const keys = puts.map((s) =>
      decodeURIComponent(s.path.slice('/bucket/'.length).split('?')[0] ?? ''),
    );
    expect(keys).toContain('index.html');
    expect(keys).toContain('js/main.js');
    expect(keys.at(-1)).toBe('config.json');
    expect(puts.find((s) => s.path.startsWith('/bucket/index.html'))?.headers['content-type']).toBe(
      'text/html; charset=utf-8',
    );
    expect(puts.at(-1)?.body).toBe('{"clientId":"tenant-console"}');
    expect(seen.some((s) => s.path.includes('/distribution/E123/invalidation'))).toBe(true);
    expect(answers()).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', RequestId: 'request-Create' }),
    ]);
    // Pre-signed without a content type: sending one would be refused by S3.
    expect(
      seen.find((s) => s.path.startsWith('/cfn-response'))?.headers['content-type'],
    ).toBeFalsy();
  });

  it('answers FAILED with a generic reason when a put fails, and never leaves the deploy waiting', async () => {
    seen.length = 0;
    failPuts = true;
    await handleConsoleEvent(event('Update'), deps());
    failPuts = false;
    expect(seen.some((s) => s.path.includes('/invalidation'))).toBe(false);
    const [answer] = answers();
    expect(answer?.Status).toBe('FAILED');
    expect(answer?.Reason).toMatch(/^Console not published: \w+; see the publisher's log$/);
  });

  it('deletes every version on Delete, so CloudFormation can delete the bucket, and answers SUCCESS', async () => {
    seen.length = 0;
    await handleConsoleEvent(event('Delete'), deps());
    const deletes = seen.filter((s) => s.path.startsWith('/bucket/?delete'));
    const deleted = deletes.flatMap((s) =>
      [...s.body.matchAll(/<Key>([^<]*)<\/Key><VersionId>([^<]*)<\/VersionId>/g)].map(
        (m) => `${m[1]}@${m[2]}`,
      ),
    );
    expect(deleted).toEqual(['index.html@v1', 'index.html@v2', 'old.js@v3']);
    expect(seen.some((s) => s.method === 'PUT' && s.path.startsWith('/bucket/'))).toBe(false);
    expect(answers()).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
  });
});
