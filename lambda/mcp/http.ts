import type { Logger } from '@aws-lambda-powertools/logger';
import { type AuthInfo, originValidationResponse } from '@modelcontextprotocol/server';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { annotateTrace, emitToolCall, errorFields } from '../shared/observability.js';
import { type TenantContext, tenantContextFromAuthorizer } from '../shared/tenant-context.js';
import { type FairUseGate, outcomeOf, peekCall } from './fair-use.js';

export interface HttpOptions {
  /** The public URL of the MCP endpoint (from configuration, never from the Host header). */
  readonly resourceUrl: URL;
  /** Hostnames a browser `Origin` may name; any other present Origin gets 403. */
  readonly allowedOriginHostnames: readonly string[];
  /** Larger bodies get 413. */
  readonly maxRequestBodySize: number;
  /** How long to wait for the MCP layer before answering 504 (below API Gateway's 29 s). */
  readonly responseTimeoutMs: number;
}

export type McpFetch = (request: Request, authInfo: AuthInfo) => Promise<Response>;

/**
 * Serves one API Gateway (REST, Lambda proxy) request to the MCP endpoint: the HTTP checks
 * that come before MCP (method, Origin, size), the tenant context from the authorizer, and the
 * mapping between the proxy event and web `Request`/`Response`.
 */
export async function serveMcpRequest(
  event: APIGatewayProxyEvent,
  deps: {
    mcp: McpFetch;
    logger: Logger;
    options: HttpOptions;
    gate: FairUseGate;
  },
): Promise<APIGatewayProxyResult> {
  const { logger, options } = deps;
  if (event.httpMethod !== 'POST') {
    // Stateless server: no SSE stream to GET, no session to DELETE.
    return jsonRpcError(405, -32000, 'Method not allowed.', { Allow: 'POST' });
  }

  let context: TenantContext;
  try {
    context = tenantContextFromAuthorizer(event.requestContext.authorizer);
  } catch (error) {
    // Only a misconfigured gateway gets here: the authorizer always sets the context.
    logger.error('Request without a valid tenant context', errorFields(error));
    return jsonRpcError(500, -32603, 'Internal error.');
  }
  // Every later line of this request carries who and what, never the sub or the e-mail.
  logger.appendKeys({
    tenantId: context.tenantId,
    tier: context.tier,
    role: context.role,
    user: context.user,
  });

  const body = bodyOf(event);
  if (body.byteLength > options.maxRequestBodySize) {
    logger.warn('Request body too large', { bytes: body.byteLength });
    return jsonRpcError(413, -32600, 'Request body too large.');
  }

  if (isJsonArray(body)) {
    // 2025-03-26 allowed JSON-RPC batches; later revisions removed them. Refusing them keeps
    // one HTTP request to one MCP call, which the per-tenant throttles and quotas count.
    logger.warn('JSON-RPC batch refused');
    return jsonRpcError(400, -32600, 'Batch requests are not supported.');
  }

  const request = toRequest(event, body, options.resourceUrl);
  const forbidden = originValidationResponse(request, [...options.allowedOriginHostnames]);
  if (forbidden) {
    logger.warn('Foreign Origin refused', { origin: request.headers.get('origin') });
    return jsonRpcError(403, -32000, 'Forbidden: Origin not allowed.');
  }

  const call = peekCall(body);
  const tool = call.method === 'tools/call' ? call.tool : undefined;
  const protocolVersion = (request.headers.get('mcp-protocol-version') ?? 'unknown').slice(0, 40);
  logger.appendKeys({
    mcpMethod: call.method ?? 'unknown',
    mcpProtocolVersion: protocolVersion,
    ...(tool ? { tool } : {}),
  });
  annotateTrace({
    'tenant.id': context.tenantId,
    'tenant.tier': context.tier,
    'mcp.method.name': call.method,
    'gen_ai.tool.name': tool,
    'mcp.protocol.version': protocolVersion,
  });
  const gate = await deps.gate.admit(context, call);
  if (!gate.admitted) {
    logger.info('MCP request refused', { status: 429, outcome: 'refused' });
    return jsonRpcError(
      429,
      -32000,
      gate.message,
      { 'retry-after': String(gate.retryAfterSeconds) },
      call.id,
    );
  }

  const authInfo: AuthInfo = {
    // The bearer token stays at the edge: no tool needs it, and none should pass it on.
    token: '',
    clientId: context.clientId,
    scopes: [],
    resource: options.resourceUrl,
    extra: { tenant: context },
  };
  try {
    // Every response of this endpoint is finite (JSON, or an SSE body that the server closes),
    // so buffering it whole is what API Gateway does anyway; the timeout guards against one
    // that is not.
    const result = await withTimeout(
      deps.mcp(request, authInfo).then(toResult),
      options.responseTimeoutMs,
    );
    const outcome = outcomeOf(result);
    const durationMs = await deps.gate.settle(context, gate, outcome);
    if (gate.tool) emitToolCall(context.tier, gate.tool, outcome, durationMs);
    logger.info('MCP request served', { status: result.statusCode, outcome, durationMs });
    return result;
  } catch (error) {
    const durationMs = await deps.gate.settle(context, gate, 'error');
    if (gate.tool) emitToolCall(context.tier, gate.tool, 'error', durationMs);
    logger.error('MCP request failed', { ...errorFields(error), durationMs });
    return error instanceof TimeoutError
      ? jsonRpcError(504, -32603, 'The server took too long to answer.')
      : jsonRpcError(500, -32603, 'Internal error.');
  }
}

function bodyOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

function isJsonArray(body: Buffer): boolean {
  for (const byte of body) {
    // Skip JSON whitespace: space, tab, line feed, carriage return.
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x5b; // '['
  }
  return false;
}

function toRequest(event: APIGatewayProxyEvent, body: Buffer, resourceUrl: URL): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name)) headers.set(name, value);
  }
  return new Request(resourceUrl, {
    method: event.httpMethod,
    headers,
    body: body.byteLength > 0 ? new Uint8Array(body) : undefined,
  });
}

async function toResult(response: Response): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    statusCode: response.status,
    headers,
    body: await response.text(),
  };
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A JSON-RPC error body with the given HTTP status; the message is always generic. The
 * request's id is echoed when it was read, as JSON-RPC asks.
 */
export function jsonRpcError(
  statusCode: number,
  code: number,
  message: string,
  extraHeaders: Record<string, string> = {},
  id: string | number | null = null,
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...extraHeaders },
    body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }),
  };
}
