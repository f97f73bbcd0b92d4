import { isJSONRPCNotification, isJSONRPCRequest } from '@modelcontextprotocol/server';

/** Client-chosen strings are cut to this many characters before a log line or a trace. */
export const LOGGED_NAME_LENGTH = 100;

/**
 * The methods that do work for the tenant: each served one is counted against the tenant's
 * monthly budget and metered. Listing tools or prompts, `initialize` and `ping` only describe
 * the server; they count against the per-user rate limit, like every request, and nothing else.
 */
const TENANT_WORK = new Set(['tools/call', 'resources/read', 'resources/list', 'prompts/get']);

/** One JSON-RPC request or notification, parsed once; every layer after this sees only it. */
export interface McpMessage {
  /** The parsed body, handed to the SDK as is (`parsedBody`), so it never reads the body again. */
  readonly body: Record<string, unknown>;
  readonly kind: 'request' | 'notification';
  /** The method, cut to a loggable length. */
  readonly method: string;
  readonly id?: string | number;
  /** For `tools/call`, the tool's name, cut to a loggable length. */
  readonly tool?: string;
  /** Whether a served request of this method is tenant work (counted and metered). */
  readonly tenantWork: boolean;
}

export type ParsedBody =
  | { readonly ok: true; readonly message: McpMessage }
  | {
      readonly ok: false;
      readonly code: number;
      readonly message: string;
      readonly reason: string;
    };

// `fatal` refuses bytes that are not UTF-8 (the SDK would read them as U+FFFD and serve the
// result); without `ignoreBOM` a leading byte-order mark is dropped, as the SDK's TextDecoder
// drops it, so the gate and the SDK read the same text.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and parses a request body exactly once, as the MCP SDK would (UTF-8 with an optional
 * byte-order mark, `JSON.parse`, so a repeated key means its last value for every layer alike),
 * and accepts only a single JSON-RPC request, or a notification of a `notifications/` method.
 * Everything else (a batch, a response, a JSON string or number, a notification carrying a
 * request's method, a body in another encoding) is refused before anything runs: this endpoint
 * serves one MCP call per HTTP request, which is what the throttles and the budget count.
 */
export function parseMcpBody(bytes: Uint8Array): ParsedBody {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return refuse(-32700, 'Parse error: the body is not UTF-8 JSON.', 'not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse(-32700, 'Parse error: the body is not valid JSON.', 'not JSON');
  }
  if (Array.isArray(value)) {
    // 2025-03-26 allowed JSON-RPC batches; later revisions removed them.
    return refuse(-32600, 'Batch requests are not supported.', 'batch');
  }
  if (value === null || typeof value !== 'object') {
    return refuse(-32600, 'Invalid request: expected one JSON-RPC message.', 'not an object');
  }
  const body = value as Record<string, unknown>;
  const method = typeof body.method === 'string' ? body.method : undefined;
  if (method !== undefined && isJSONRPCRequest(body)) {
    const id = body.id as string | number;
    const params = body.params as { name?: unknown } | undefined;
    const tool =
      method === 'tools/call' && typeof params?.name === 'string'
        ? params.name.slice(0, LOGGED_NAME_LENGTH)
        : undefined;
    return {
      ok: true,
      message: {
        body,
        kind: 'request',
        method: method.slice(0, LOGGED_NAME_LENGTH),
        id,
        ...(tool === undefined ? {} : { tool }),
        tenantWork: TENANT_WORK.has(method),
      },
    };
  }
  if (method !== undefined && isJSONRPCNotification(body)) {
    if (!method.startsWith('notifications/')) {
      // A request's method without an id would be dropped by the SDK unanswered: refuse it, so
      // a client learns its call did not run rather than that it was accepted.
      return refuse(-32600, 'Invalid request: a notification must not call a method.', 'notify');
    }
    return {
      ok: true,
      message: {
        body,
        kind: 'notification',
        method: method.slice(0, LOGGED_NAME_LENGTH),
        tenantWork: false,
      },
    };
  }
  return refuse(
    -32600,
    'Invalid request: expected one JSON-RPC request or notification.',
    'not a request',
  );
}

function refuse(code: number, message: string, reason: string): ParsedBody {
  return { ok: false, code, message, reason };
}
