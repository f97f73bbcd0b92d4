import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../platform/errors.js';
import { currentScope, WorkAbortedError } from '../platform/request-scope.js';

export interface OutboundPolicy {
  /**
   * Development only (local tests and `npm run dev`): also allow plain http and loopback
   * addresses. Never set on AWS.
   * @default false
   */
  readonly allowLoopback?: boolean;
  /**
   * Redirects to follow, each checked like the first address. Webhooks follow none: a signed
   * delivery re-sent to wherever a redirect points could be replayed from there.
   * @default 0
   */
  readonly maxRedirects?: number;
  /** For the whole exchange, name resolution and redirects included. @default 5000 */
  readonly timeoutMs?: number;
}

/** Addresses a tenant-chosen URL may never reach: private, loopback, link-local and the like. */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv6');
}
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export class OutboundRefused extends ValidationError {}

/**
 * Where a tenant-chosen URL may lead: https only, a host whose every resolved address is
 * public, no credentials in the URL. Returns the address to connect to, so the connection
 * goes where the check looked (no second DNS answer can swap in a private address).
 */
export async function checkDestination(
  url: URL,
  policy: OutboundPolicy,
): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const allowedProtocols = policy.allowLoopback ? ['https:', 'http:'] : ['https:'];
  if (!allowedProtocols.includes(url.protocol)) {
    throw new OutboundRefused('Only https webhook addresses are allowed.');
  }
  if (url.username || url.password)
    throw new OutboundRefused('Webhook addresses may not carry credentials.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [{ address: host, family: isIP(host) as 4 | 6 }]
    : await lookup(host, { all: true, verbatim: true }).catch(() => {
        throw new OutboundRefused('The webhook host name does not resolve.');
      });
  for (const resolved of addresses) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(resolved.address)?.[1];
    const address = mapped ?? resolved.address;
    const type = mapped || resolved.family === 4 ? 'ipv4' : 'ipv6';
    const isLoopback = loopback.check(address, type);
    if (forbidden.check(address, type) && !(policy.allowLoopback && isLoopback)) {
      throw new OutboundRefused(
        'The webhook address is not allowed: it leads to a private, loopback or link-local network.',
      );
    }
  }
  if (addresses.length === 0) throw new OutboundRefused('The webhook host name does not resolve.');
  return addresses.map(({ address, family }) => ({ address, family: family as 4 | 6 }));
}

export interface OutboundResponse {
  readonly status: number;
  readonly finalUrl: string;
}

/**
 * POSTs to a tenant-chosen URL under the policy: the address is checked before any byte is
 * sent, the connection goes to an approved address, a redirect is followed only if the policy
 * allows and after the same check, and the whole exchange (name resolution included) ends by
 * the deadline whatever the server does. The response body is not read.
 */
export async function postOutbound(
  target: string,
  body: string,
  headers: Record<string, string>,
  policy: OutboundPolicy = {},
): Promise<OutboundResponse> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new OutboundRefused('The webhook address is not a URL.');
  }
  const deadline = Date.now() + (policy.timeoutMs ?? 5_000);
  const maxRedirects = policy.maxRedirects ?? 0;
  for (let hop = 0; ; hop++) {
    const destination = await withDeadline(checkDestination(url, policy), deadline);
    const response = await send(url, destination, { method: 'POST', body, headers }, deadline);
    const redirect = response.status >= 300 && response.status < 400 && response.location;
    if (!redirect) return { status: response.status, finalUrl: url.href };
    if (hop >= maxRedirects) {
      throw new OutboundRefused(
        maxRedirects === 0
          ? 'The webhook answered with a redirect, which is not followed.'
          : 'The webhook redirected too many times.',
      );
    }
    url = new URL(response.location as string, url);
  }
}

export interface OutboundDocument {
  readonly status: number;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly body: string;
}

/**
 * GETs a document from a URL a caller chose (a client's metadata document), under the same
 * policy as webhooks: checked address, pinned connection, no redirect, one deadline for the
 * whole exchange, and a body bounded to `maxBytes` (a longer one is refused, not cut).
 */
export async function getOutbound(
  target: URL,
  policy: OutboundPolicy & { readonly maxBytes: number },
): Promise<OutboundDocument> {
  const deadline = Date.now() + (policy.timeoutMs ?? 5_000);
  const destination = await withDeadline(checkDestination(target, policy), deadline);
  const response = await send(
    target,
    destination,
    { method: 'GET', headers: { accept: 'application/json' }, maxBytes: policy.maxBytes },
    deadline,
  );
  if (response.status >= 300 && response.status < 400) {
    throw new OutboundRefused('The address answered with a redirect, which is not followed.');
  }
  return {
    status: response.status,
    contentType: response.contentType ?? '',
    cacheControl: response.cacheControl ?? '',
    body: response.body ?? '',
  };
}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OutboundRefused('The webhook did not answer in time.')),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

interface OutboundRequest {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  /** Sent with a POST. */
  readonly body?: string;
  /** Read the response body up to this many bytes (a GET); without it, the body is not read. */
  readonly maxBytes?: number;
}

interface RawResponse {
  status: number;
  location?: string;
  contentType?: string;
  cacheControl?: string;
  body?: string;
}

/** One request; settles by the deadline on every path (answer, error, abort, silence). */
function send(
  url: URL,
  destinations: Array<{ address: string; family: 4 | 6 }>,
  outbound: OutboundRequest,
  deadline: number,
): Promise<RawResponse> {
  const { method, headers, body = '', maxBytes } = outbound;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // The invocation's deadline stops the request too (see request-scope.ts).
  const signal = currentScope()?.signal;
  if (signal?.aborted) return Promise.reject(new WorkAbortedError());
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = () => finish(() => reject(new WorkAbortedError()));
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      outcome();
    };
    const req = request(url, {
      method,
      headers:
        method === 'POST' ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers,
      // Connect only to the approved addresses; TLS still verifies the certificate for the name.
      lookup: (_host, options, callback) => {
        const [first] = destinations;
        if ((options as { all?: boolean }).all) {
          (callback as unknown as (e: null, all: typeof destinations) => void)(null, destinations);
        } else if (first) {
          callback(null, first.address, first.family);
        }
      },
    });
    const timer = setTimeout(
      () => finish(() => reject(new OutboundRefused('The webhook did not answer in time.'))),
      Math.max(0, deadline - Date.now()),
    );
    req.on('response', (res) => {
      const head: RawResponse = {
        status: res.statusCode ?? 0,
        location: res.headers.location,
        contentType: res.headers['content-type'],
        cacheControl: res.headers['cache-control'],
      };
      // For a POST the status and headers are the answer; the body is not needed.
      if (maxBytes === undefined || head.location) return finish(() => resolve(head));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBytes) {
          finish(() => reject(new OutboundRefused('The document is too large.')));
        } else chunks.push(chunk);
      });
      res.on('end', () =>
        finish(() => resolve({ ...head, body: Buffer.concat(chunks).toString('utf8') })),
      );
    });
    req.on('error', (error) =>
      finish(() =>
        reject(new OutboundRefused('The webhook could not be reached.', { cause: error })),
      ),
    );
    req.on('close', () =>
      finish(() =>
        reject(new OutboundRefused('The webhook closed the connection without answering.')),
      ),
    );
    req.end(method === 'POST' ? body : undefined);
  });
}
