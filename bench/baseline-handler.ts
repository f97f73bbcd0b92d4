/**
 * The baseline as a Lambda behind an API Gateway proxy integration, bundled like the
 * project's Lambdas for the cold-start comparison (see bench/bundles.ts). Reads
 * DATA_TABLE_NAME and the AWS SDK's usual environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { baselineMcp } from './baseline-mcp.js';

const mcp = baselineMcp(
  DynamoDBDocumentClient.from(new DynamoDBClient({})),
  process.env.DATA_TABLE_NAME as string,
);

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers)) if (value) headers.set(name, value);
  const response = await mcp.fetch(
    new Request(`https://${event.headers.Host ?? 'localhost'}${event.path}`, {
      method: event.httpMethod,
      headers,
      body: event.body,
    }),
  );
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}
