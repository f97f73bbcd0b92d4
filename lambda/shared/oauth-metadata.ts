/**
 * The URLs and documents by which an MCP client discovers how to get a token for this server
 * (MCP authorization, RFC 9728). Used by the CDK app (gateway responses, function
 * configuration), the metadata handler and the local gateway, so all agree.
 *
 * Every URL is built from the configured public base URL of the API, never from a request's
 * Host header, which a client controls.
 */

/** Path of the MCP endpoint under the API's base URL. */
export const MCP_PATH = '/mcp';
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** `apiBaseUrl` without a trailing slash, e.g. `https://<id>.execute-api.<region>.amazonaws.com/v1`. */
export function endpointUrls(apiBaseUrl: string) {
  const base = apiBaseUrl.replace(/\/+$/, '');
  return {
    /** The protected resource: what tokens are for and what clients connect to. */
    resource: `${base}${MCP_PATH}`,
    /** RFC 9728 metadata of that resource (path-suffixed form). */
    resourceMetadata: `${base}${PROTECTED_RESOURCE_PATH}${MCP_PATH}`,
  };
}

/** The `WWW-Authenticate` challenge of a 401: where the metadata is and which scope to ask for. */
export function bearerChallenge(apiBaseUrl: string, scope: string): string {
  return `Bearer resource_metadata="${endpointUrls(apiBaseUrl).resourceMetadata}", scope="${scope}"`;
}

export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: string[];
  readonly scopes_supported: string[];
  readonly bearer_methods_supported: string[];
  readonly resource_name: string;
}

export function protectedResourceMetadata(options: {
  apiBaseUrl: string;
  authorizationServer: string;
  scope: string;
}): ProtectedResourceMetadata {
  return {
    resource: endpointUrls(options.apiBaseUrl).resource,
    authorization_servers: [options.authorizationServer],
    scopes_supported: [options.scope],
    bearer_methods_supported: ['header'],
    resource_name: 'Multi-tenant MCP server',
  };
}

/** Where MCP Inspector receives the authorization code, used unless configured otherwise. */
export const DEFAULT_CALLBACK_URLS = [
  'http://localhost:6274/oauth/callback',
  'http://localhost:6274/oauth/callback/debug',
  'http://127.0.0.1:6274/oauth/callback',
  'http://127.0.0.1:6274/oauth/callback/debug',
] as const;
