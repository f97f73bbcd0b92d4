/**
 * The baseline MCP server (bench/baseline-mcp.ts) over plain HTTP, for the warm comparison.
 * Prints `{"port":N}` when ready.
 *
 *   tsx bench/baseline-server.ts --dynamodb URL --table NAME
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { baselineMcp } from './baseline-mcp.js';

const { values } = parseArgs({
  options: { dynamodb: { type: 'string' }, table: { type: 'string' } },
});
const handler = baselineMcp(
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: values.dynamodb,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  ),
  values.table as string,
);

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (typeof value === 'string') headers.set(name, value);
  const response = await handler.fetch(
    new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    }),
  );
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
