import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_STAGE_NAME } from '../lambda/shared/edge/api-contract.js';

/** What the proxy event is built from: an HTTP request as it reached the gateway. */
export interface GatewayRequest {
  readonly method: string;
  readonly url: URL;
  /** Header names and values, alternating, as received (Node's `rawHeaders`). */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

/** The Lambda proxy integration's event for a request, with the authorizer's context. */
export function proxyEvent(
  request: GatewayRequest,
  resource: string,
  authorizer: Record<string, unknown> | null,
): APIGatewayProxyEvent {
  const { method, url, rawHeaders, body } = request;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query = [...url.searchParams.keys()];
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.length ? Object.fromEntries(url.searchParams) : null,
    multiValueQueryStringParameters: query.length
      ? Object.fromEntries(query.map((key) => [key, url.searchParams.getAll(key)]))
      : null,
    pathParameters: null,
    stageVariables: null,
    body: body.byteLength > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer,
      httpMethod: method,
      identity: { sourceIp: request.sourceIp } as never,
      path: `/${API_STAGE_NAME}${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      stage: API_STAGE_NAME,
    },
  };
}
