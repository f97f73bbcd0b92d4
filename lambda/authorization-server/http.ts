/** HTTP as the façade reads and answers it: parsed once from the proxy event. */

export interface FacadeRequest {
  readonly method: string;
  /** The path under the stage, e.g. `/oauth/token`. */
  readonly path: string;
  /** Every value of every query parameter (repeated parameters are an error in OAuth). */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly sourceIp: string;
}

export interface FacadeResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const FORM = 'application/x-www-form-urlencoded';

/** Whether a value has the form of a secret this façade made (newSecret: 32 bytes, base64url). */
export const isSecret = (value: string | undefined): boolean =>
  /^[A-Za-z0-9_-]{43}$/.test(value ?? '');

/** One value per parameter, or undefined if any is repeated (RFC 6749 3.1, 3.2). */
export function singleValues(
  query: Readonly<Record<string, readonly string[]>>,
): Record<string, string> | undefined {
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(query)) {
    if (values.length !== 1) return undefined;
    single[name] = values[0] as string;
  }
  return single;
}

export function formFields(request: FacadeRequest): Record<string, string> | undefined {
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith(FORM)) return undefined;
  const fields: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(request.body)) {
    fields[name] = [...(fields[name] ?? []), value];
  }
  return singleValues(fields);
}

export function cookies(header: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (header ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .filter((pair): pair is [string, string] => pair.length === 2),
  );
}

const CORS = { 'access-control-allow-origin': '*' };

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): FacadeResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...CORS,
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

export function preflight(): FacadeResponse {
  return {
    statusCode: 204,
    headers: {
      ...CORS,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, mcp-protocol-version',
      'access-control-max-age': '3600',
    },
    body: '',
  };
}

export function redirect(location: string): FacadeResponse {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

export function html(
  statusCode: number,
  body: string,
  headers: Record<string, string> = {},
): FacadeResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
    body,
  };
}
