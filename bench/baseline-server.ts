/**
 * The benchmark's baseline: the smallest stateless MCP server on the same SDK answering the
 * same `notes_get` call with the same dynalite read, without any of the multi-tenancy (no
 * gateway, authorizer, scoped credentials or encryption). Prints `{"port":N}` when ready.
 *
 *   tsx bench/baseline-server.ts --dynamodb URL --table NAME
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const { values } = parseArgs({
  options: { dynamodb: { type: 'string' }, table: { type: 'string' } },
});
const db = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: 'us-east-1',
    endpoint: values.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);

const handler = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'baseline', version: '1.0.0' });
    server.registerTool(
      'notes_get',
      { inputSchema: z.object({ tenantId: z.string(), id: z.string() }) },
      async ({ tenantId, id }) => {
        const { Item } = await db.send(
          new GetCommand({ TableName: values.table, Key: { tenantId, sk: `NOTE#${id}` } }),
        );
        return { content: [{ type: 'text', text: JSON.stringify(Item ?? null) }] };
      },
    );
    return server;
  },
  { responseMode: 'json', legacy: 'reject' },
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
