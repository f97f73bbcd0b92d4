/**
 * The MCP API as the console uses it: stateless JSON-RPC over HTTP POST (2025-11-25, no
 * `initialize`), one request per call, plain JSON answers.
 */

import { forgetToken, token } from './auth.js';
import { ApiError, SessionEndedError, ToolRefusedError } from './errors.js';

const PROTOCOL_VERSION = '2025-11-25';

/** @type {string} */
let endpoint = '';
/** @type {() => void} */
let onSessionEnded = () => {};
let nextId = 1;

/**
 * @param {string} mcpUrl
 * @param {() => void} sessionEnded called when the API refuses the token (HTTP 401)
 */
export function configure(mcpUrl, sessionEnded) {
  endpoint = mcpUrl;
  onSessionEnded = sessionEnded;
}

/**
 * One JSON-RPC request; resolves with its `result`.
 * @param {string} method
 * @param {Record<string, unknown>} params
 */
async function rpc(method, params) {
  const bearer = token();
  if (!bearer) {
    onSessionEnded();
    throw new SessionEndedError('Your session has ended. Sign in again.');
  }
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_VERSION,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  });
  if (response.status === 401) {
    forgetToken();
    onSessionEnded();
    throw new SessionEndedError('Your session has ended. Sign in again.');
  }
  const body = await response.json().catch(() => null);
  if (body?.error && typeof body.error.message === 'string') {
    throw new ApiError(body.error.message);
  }
  if (!response.ok || !body || typeof body.result !== 'object') {
    if (response.status === 403) {
      throw new ApiError('The server refused access (your organisation or account may be off).');
    }
    if (response.status === 429) throw new ApiError('Too many requests: wait a moment and retry.');
    throw new ApiError(`The server could not answer (HTTP ${response.status}).`);
  }
  return body.result;
}

/**
 * @typedef {object} ToolInfo
 * @property {string} name
 * @property {string} [title]
 * @property {boolean} readOnly declared read-only (`readOnlyHint`)
 */

/** The tools this caller is served. @returns {Promise<ToolInfo[]>} */
export async function listTools() {
  const result = await rpc('tools/list', {});
  const tools = Array.isArray(result.tools) ? result.tools : [];
  return tools.map((/** @type {any} */ tool) => ({
    name: String(tool.name),
    title: typeof tool.title === 'string' ? tool.title : undefined,
    readOnly: tool.annotations?.readOnlyHint === true,
  }));
}

/**
 * Calls a tool; resolves with its structured output, or throws `ToolRefusedError` with the
 * tool's (generic) message.
 * @param {string} name
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<any>}
 */
export async function callTool(name, args = {}) {
  const result = await rpc('tools/call', { name, arguments: args });
  const text = Array.isArray(result.content) ? result.content[0]?.text : undefined;
  if (result.isError === true) {
    throw new ToolRefusedError(typeof text === 'string' ? text : 'The request was refused.');
  }
  if (result.structuredContent && typeof result.structuredContent === 'object') {
    return result.structuredContent;
  }
  try {
    return JSON.parse(text ?? '');
  } catch {
    throw new ApiError('The server answered in an unexpected form.');
  }
}
