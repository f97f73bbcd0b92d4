import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';

/**
 * The benchmark's baseline: the smallest stateless MCP server on the same SDK answering the
 * same `notes_get` call with the same DynamoDB read, without any of the multi-tenancy (no
 * gateway, authorizer, scoped credentials or encryption). The caller names the partition.
 */
export function baselineMcp(db: DynamoDBDocumentClient, table: string) {
  return createMcpHandler(
    () => {
      const server = new McpServer({ name: 'baseline', version: '1.0.0' });
      server.registerTool(
        'notes_get',
        { inputSchema: z.object({ tenantId: z.string(), id: z.string() }) },
        async ({ tenantId, id }) => {
          const { Item } = await db.send(
            new GetCommand({ TableName: table, Key: { tenantId, sk: `NOTE#${id}` } }),
          );
          return { content: [{ type: 'text', text: JSON.stringify(Item ?? null) }] };
        },
      );
      return server;
    },
    { responseMode: 'json', legacy: 'reject' },
  );
}
