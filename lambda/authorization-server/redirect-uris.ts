/**
 * Which redirect URIs a client may register, and when a requested one matches: exact string
 * comparison (OAuth 2.1, MCP authorization), except that a loopback redirect URI matches on any
 * port (RFC 8252 7.3: native apps listen on an ephemeral port).
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Schemes that must never receive a code: they run code, read files or leave the app. */
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'about:',
  'blob:',
  'filesystem:',
  'ftp:',
  'ws:',
  'wss:',
]);

/** Operating-system handlers a link can launch (Windows' ms-* and search protocols, shell). */
const OS_HANDLER = /^(ms-[a-z0-9.+-]*|search|search-ms|shell|mk|its|hcp|res):$/;

function parse(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

export function isLoopbackRedirect(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Why a redirect URI may not be registered (by DCR or a metadata document), or undefined if it
 * may: https anywhere, http only on loopback (RFC 8252 7.3), or a private-use scheme of a
 * native app (RFC 8252 7.1, such as `cursor://...`); never a fragment or credentials.
 */
export function redirectUriProblem(value: string): string | undefined {
  const url = parse(value);
  if (!url) return 'not an absolute URI';
  if (value.includes('#')) return 'has a fragment';
  if (url.username || url.password) return 'carries credentials';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'has no host';
  if (url.protocol === 'http:') {
    return isLoopbackRedirect(url) ? undefined : 'uses http on a host that is not loopback';
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol) || OS_HANDLER.test(url.protocol)) {
    return 'uses a forbidden scheme';
  }
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? undefined : 'has an invalid scheme';
}

/** Whether `requested` is one of `registered`, exactly, or a loopback URI that differs by port. */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const asked = parse(requested);
  if (!asked || !isLoopbackRedirect(asked) || requested.includes('#')) return false;
  if (asked.username || asked.password) return false;
  return registered.some((candidate) => {
    const known = parse(candidate);
    return (
      known !== undefined &&
      isLoopbackRedirect(known) &&
      known.hostname === asked.hostname &&
      known.pathname === asked.pathname &&
      known.search === asked.search
    );
  });
}
