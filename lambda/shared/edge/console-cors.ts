/**
 * The one cross-origin caller of the MCP API: the tenant console, served from its own origin
 * (CloudFront in AWS, a local static server in `npm run dev`). Named once for the CDK app (the
 * preflight API Gateway answers, the gateway responses), the local gateway, and the MCP
 * function (the headers of its answers), so all three agree.
 *
 * Exactly one origin is allowed, never `*` and never a reflected `Origin`: a page of any other
 * origin may still send a request (browsers do not stop the sending), but it carries no token
 * (the console keeps it in memory; no cookie authenticates this API, so there is nothing for a
 * cross-site request to ride on), and its answer is unreadable to that page.
 */

/** Request headers the console sends (the preflight's `Access-Control-Allow-Headers`). */
export const CONSOLE_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'mcp-protocol-version',
] as const;

/** Response headers the console may read besides the CORS-safelisted ones. */
export const CONSOLE_EXPOSED_HEADERS = ['www-authenticate', 'retry-after'] as const;

/** How long a browser may reuse a preflight's answer. */
export const CONSOLE_PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * The headers of an answer the console may read: on every answer of the API's authorized
 * routes, whatever the request's Origin, as API Gateway's static gateway-response headers are.
 * A browser compares the value with the page's origin, so another origin reads nothing.
 */
export function consoleCorsHeaders(consoleOrigin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': consoleOrigin,
    'Access-Control-Expose-Headers': CONSOLE_EXPOSED_HEADERS.join(', '),
    Vary: 'Origin',
  };
}

/** The preflight's answer (API Gateway answers it with a mock integration, no function runs). */
export function consolePreflightHeaders(consoleOrigin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': consoleOrigin,
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': CONSOLE_ALLOWED_HEADERS.join(', '),
    'Access-Control-Max-Age': String(CONSOLE_PREFLIGHT_MAX_AGE_SECONDS),
    Vary: 'Origin',
  };
}

/** An origin as browsers send it: scheme, host and port only, no path or trailing slash. */
export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}
