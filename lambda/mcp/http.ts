import type { Logger } from '@aws-lambda-powertools/logger';
import { type AuthInfo, originValidationResponse } from '@modelcontextprotocol/server';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  type AuditOutcome,
  argumentsDigest,
  auditTargets,
  namesMember,
  writeAuditRecord,
} from '../shared/audit/audit-record.js';
import { consoleCorsHeaders } from '../shared/edge/console-cors.js';
import { type CallOutcome, writeUsageRecord } from '../shared/fair-use/usage-record.js';
import { annotateTrace, emitToolCall, errorFields } from '../shared/platform/observability.js';
import type { Pseudonyms } from '../shared/platform/pseudonym.js';
import { RequestScope, runInScope } from '../shared/platform/request-scope.js';
import { type TenantContext, tenantContextFromAuthorizer } from '../shared/tenancy/context.js';
import type { FairUseGate } from './fair-use.js';
import { LOGGED_NAME_LENGTH, parseMcpBody } from './message.js';

export interface HttpOptions {
  /** The public URL of the MCP endpoint (from configuration, never from the Host header). */
  readonly resourceUrl: URL;
  /** Hostnames a browser `Origin` may name; any other present Origin gets 403. */
  readonly allowedOriginHostnames: readonly string[];
  /** Larger bodies get 413. */
  readonly maxRequestBodySize: number;
  /** How long to wait for the MCP layer before answering 504 (below API Gateway's 29 s). */
  readonly responseTimeoutMs: number;
  /**
   * The tenant console's origin: the one browser origin that may read this endpoint's answers
   * (lambda/shared/edge/console-cors.ts), and an Origin that is always allowed.
   */
  readonly consoleOrigin?: string;
}

export type McpFetch = (
  request: Request,
  authInfo: AuthInfo,
  parsedBody: Record<string, unknown>,
) => Promise<Response>;

/**
 * Serves one API Gateway (REST, Lambda proxy) request to the MCP endpoint: the HTTP checks
 * that come before MCP (method, Origin, size), the tenant context from the authorizer, and the
 * mapping between the proxy event and web `Request`/`Response`.
 */
export async function serveMcpRequest(
  event: APIGatewayProxyEvent,
  deps: McpRequestDeps,
): Promise<APIGatewayProxyResult> {
  const result = await serve(event, deps);
  const { consoleOrigin } = deps.options;
  if (!consoleOrigin) return result;
  return { ...result, headers: { ...result.headers, ...consoleCorsHeaders(consoleOrigin) } };
}

export interface McpRequestDeps {
  mcp: McpFetch;
  logger: Logger;
  options: HttpOptions;
  gate: FairUseGate;
  /** The invocation's time left (Lambda's `getRemainingTimeInMillis`, less a margin). */
  remainingTimeMs?: () => number;
  /** API Gateway's request id, for the usage record. */
  requestId?: string;
  /** The pseudonym key: audit records name members by pseudonym, never by sub. */
  pseudonyms?: () => Promise<Pseudonyms>;
  /**
   * Starts, for tenant work, what the work will need and the fair-use checks need not wait
   * for (the tenant's scoped credentials): on a first call it overlaps their round trips.
   */
  prefetch?: (context: TenantContext) => Promise<unknown>;
}

async function serve(
  event: APIGatewayProxyEvent,
  deps: McpRequestDeps,
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
  // Every later line of this request carries who and what, never the sub or the e-mail: with
  // an agent, its id too (and `user` is the person it acts for, or the agent itself).
  logger.appendKeys({
    tenantId: context.tenantId,
    tier: context.tier,
    role: context.role,
    user: context.user,
    ...(context.agentId ? { agentId: context.agentId } : {}),
  });

  // Every request that reaches this far is audited once: what it tried, and how it ended.
  const arrivedAt = Date.now();
  const audit = async (
    action: string,
    outcome: AuditOutcome,
    extra: { reason?: string; body?: Record<string, unknown> } = {},
  ) =>
    writeAuditRecord({
      tenantId: context.tenantId,
      time: arrivedAt,
      actor: { user: context.user, ...(context.agentId ? { agentId: context.agentId } : {}) },
      action,
      ...(await auditedArguments(extra.body, deps.pseudonyms, logger)),
      outcome,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(deps.requestId ? { requestId: deps.requestId.slice(0, 100) } : {}),
    });

  const bytes = bodyOf(event);
  if (bytes.byteLength > options.maxRequestBodySize) {
    logger.warn('Request body too large', { bytes: bytes.byteLength });
    await audit('invalid-request', 'refused', { reason: 'too-large' });
    return jsonRpcError(413, -32600, 'Request body too large.');
  }

  // The body is read here once; the gate, the logs and the SDK all see this one message.
  const parsed = parseMcpBody(bytes);
  if (!parsed.ok) {
    logger.warn('MCP request refused before it ran', {
      reason: parsed.reason,
      excerpt: excerptOf(bytes),
    });
    await audit('invalid-request', 'refused', { reason: 'malformed' });
    return jsonRpcError(400, parsed.code, parsed.message);
  }
  const message = parsed.message;
  // A tool call without a name is recorded as the method it used.
  const action = message.tool || message.method;

  const signal = new AbortController();
  const request = toRequest(event, options.resourceUrl, signal.signal);
  const forbidden =
    request.headers.get('origin') !== (options.consoleOrigin ?? null) &&
    originValidationResponse(request, [...options.allowedOriginHostnames]);
  if (forbidden) {
    logger.warn('Foreign Origin refused', {
      origin: request.headers.get('origin')?.slice(0, LOGGED_NAME_LENGTH),
    });
    await audit(action, 'refused', { reason: 'foreign-origin', body: message.body });
    return jsonRpcError(403, -32000, 'Forbidden: Origin not allowed.');
  }

  const protocolVersion = (request.headers.get('mcp-protocol-version') ?? 'unknown').slice(0, 40);
  logger.appendKeys({
    mcpMethod: message.method,
    mcpProtocolVersion: protocolVersion,
    ...(message.tool ? { tool: message.tool } : {}),
  });
  annotateTrace({
    'tenant.id': context.tenantId,
    'tenant.tier': context.tier,
    'mcp.method.name': message.method,
    'gen_ai.tool.name': message.tool,
    'mcp.protocol.version': protocolVersion,
  });
  // In the request's scope, so the deadline stops it too; awaited on every path below, so
  // nothing of it runs on into a later invocation.
  const scope = new RequestScope(signal.signal);
  const prefetch = deps.prefetch;
  const warming =
    message.tenantWork && prefetch
      ? runInScope(scope, () => prefetch(context)).catch(() => undefined)
      : undefined;
  const gate = await deps.gate.admit(context, message);
  if (!gate.admitted) {
    await warming;
    logger.info('MCP request refused', { status: 429, outcome: 'refused' });
    await audit(action, 'refused', { reason: gate.reason, body: message.body });
    return jsonRpcError(
      429,
      -32000,
      gate.message,
      { 'retry-after': String(gate.retryAfterSeconds) },
      message.id,
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
  const startedAt = Date.now();
  const deadlineMs = Math.min(options.responseTimeoutMs, deps.remainingTimeMs?.() ?? Infinity);
  let result: APIGatewayProxyResult;
  let outcome: CallOutcome;
  try {
    // Every response of this endpoint is finite (JSON), so buffering it whole is what API
    // Gateway does anyway. At the deadline the work is aborted, not only the wait for it.
    result = await runInScope(scope, () =>
      withDeadline(deps.mcp(request, authInfo, message.body).then(toResult), deadlineMs, signal),
    );
    outcome = outcomeOf(result);
  } catch (error) {
    outcome = 'error';
    logger.error('MCP request failed', {
      ...errorFields(error),
      durationMs: Date.now() - startedAt,
    });
    result =
      error instanceof TimeoutError
        ? jsonRpcError(504, -32603, 'The server took too long to answer.', {}, message.id)
        : jsonRpcError(500, -32603, 'Internal error.', {}, message.id);
  }
  const durationMs = Date.now() - startedAt;
  // Tenant work counts once its handler has begun; anything else once the SDK answered it.
  const served = message.tenantWork
    ? scope.served
    : result.statusCode < 300 && !isJsonRpcError(result);
  if (served && message.tenantWork) {
    // First, before any other await: the record is the metering of this call.
    writeUsageRecord({
      tenantId: context.tenantId,
      name: message.tool ?? message.method,
      outcome,
      durationMs,
      time: startedAt,
      user: context.user,
      ...(context.agentId ? { agentId: context.agentId } : {}),
      ...(deps.requestId ? { requestId: deps.requestId.slice(0, 100) } : {}),
    });
    if (message.tool) emitToolCall(context.tier, message.tool, outcome, durationMs);
  }
  if (message.tenantWork) {
    await audit(action, served ? outcome : 'refused', {
      body: message.body,
      ...(served ? {} : { reason: 'not-served' }),
    });
  }
  await Promise.all([deps.gate.settle(context, gate, served), warming]);
  logger.info('MCP request answered', { status: result.statusCode, served, outcome, durationMs });
  return result;
}

/**
 * What the audit record keeps of a call's arguments: the ids it names and a digest, never the
 * values (a note's body, an e-mail address, a URL). A member is named by pseudonym, which needs
 * the key (loaded once per environment, only by a call that names a member).
 */
async function auditedArguments(
  body: Record<string, unknown> | undefined,
  pseudonyms: (() => Promise<Pseudonyms>) | undefined,
  logger: Logger,
): Promise<{ targets: string[]; argsDigest?: string }> {
  const params = body?.params as Record<string, unknown> | undefined;
  if (!params || typeof params !== 'object') return { targets: [] };
  const args = body?.method === 'resources/read' ? params : params.arguments;
  let pseudonymOf = (_sub: string) => 'unavailable';
  if (namesMember(args) && pseudonyms) {
    try {
      const key = await pseudonyms();
      pseudonymOf = (sub) => key.of(sub);
    } catch (error) {
      logger.warn('Pseudonym key unavailable for the audit record', errorFields(error));
    }
  }
  const targets = auditTargets(args, pseudonymOf);
  if (body?.method === 'prompts/get' && typeof params.name === 'string') {
    targets.unshift(params.name.slice(0, 100));
  }
  const digest = body?.method === 'resources/read' ? undefined : argumentsDigest(args);
  return { targets: targets.slice(0, 5), ...(digest ? { argsDigest: digest } : {}) };
}

/**
 * What the log line of a refused body shows of it: its size and its first 16 bytes in hex, which
 * tell a byte-order mark, a batch or another encoding apart, and are too few to carry a secret.
 */
function excerptOf(bytes: Buffer): string {
  return `${bytes.byteLength} bytes: ${bytes.subarray(0, 16).toString('hex')}`;
}

function bodyOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * The web request the SDK serves, without its body: the SDK gets the message already parsed
 * (`parsedBody`), so it has nothing to read twice. Aborting `signal` closes the exchange.
 */
function toRequest(event: APIGatewayProxyEvent, resourceUrl: URL, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name)) headers.set(name, value);
  }
  return new Request(resourceUrl, { method: event.httpMethod, headers, signal });
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

/** Waits for the work until the deadline; then aborts it (tools, AWS calls, webhooks). */
async function withDeadline<T>(promise: Promise<T>, ms: number, work: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      work.abort();
      reject(new TimeoutError(`no answer within ${ms} ms`));
    }, ms);
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

/** How a served call ended, read from the JSON-RPC response: a tool error counts as an error. */
export function outcomeOf(result: APIGatewayProxyResult): CallOutcome {
  if (result.statusCode !== 200) return 'error';
  try {
    const body = JSON.parse(result.body) as { error?: unknown; result?: { isError?: unknown } };
    return body.error !== undefined || body.result?.isError === true ? 'error' : 'ok';
  } catch {
    return 'error';
  }
}

function isJsonRpcError(result: APIGatewayProxyResult): boolean {
  if (result.body === '') return false; // 202 for a notification
  try {
    return (JSON.parse(result.body) as { error?: unknown }).error !== undefined;
  } catch {
    return true;
  }
}
