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

/**
 * The RFC 9728 document. The authorization server is the façade on the API's own origin
 * (`lambda/authorization-server/`), whose issuer is the API's base URL.
 */
export function protectedResourceMetadata(options: {
  apiBaseUrl: string;
  scope: string;
}): ProtectedResourceMetadata {
  return {
    resource: endpointUrls(options.apiBaseUrl).resource,
    authorization_servers: [facadeUrls(options.apiBaseUrl).issuer],
    scopes_supported: [options.scope],
    bearer_methods_supported: ['header'],
    resource_name: 'Multi-tenant MCP server',
  };
}

/**
 * The authorization-server façade's paths under the API's base URL. Its issuer is the base URL
 * itself, which on execute-api has a path (`/v1`): MCP clients then look for the metadata at
 * `/.well-known/oauth-authorization-server/v1` on the host (RFC 8414 path insertion, outside
 * the stage, unreachable) and at `<issuer>/.well-known/openid-configuration` (the OpenID
 * alias, path appended), which the stage serves. Both well-known paths are served, so a custom
 * domain without a base path works with RFC 8414 discovery as well.
 */
export const FACADE_PATHS = {
  metadata: '/.well-known/oauth-authorization-server',
  openidConfiguration: '/.well-known/openid-configuration',
  authorize: '/oauth/authorize',
  consent: '/oauth/consent',
  callback: '/oauth/callback',
  token: '/oauth/token',
  register: '/oauth/register',
  /**
   * The public keys of what the platform signs itself: agents' and delegations' access tokens
   * and webhook credentials (`<issuer>/.well-known/jwks.json`).
   */
  jwks: '/.well-known/jwks.json',
  /** The invitation page: sign up with the invited address to accept (see invitations.ts). */
  invitation: '/invitations',
  invitationConfirm: '/invitations/confirm',
} as const;

export interface FacadeRoute {
  readonly path: string;
  readonly methods: readonly string[];
  /**
   * Requests per second (steady, burst) for all callers of the route's GET or POST together,
   * below the stage's: an anonymous endpoint must not use up what MCP calls need.
   */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * The façade's routes on the REST API, read by the CDK app and the local gateway alike. OPTIONS
 * answers browser-based clients' CORS preflight (MCP Inspector registers with a JSON POST).
 */
export const FACADE_ROUTES: readonly FacadeRoute[] = [
  { path: FACADE_PATHS.metadata, methods: ['GET', 'OPTIONS'] },
  { path: FACADE_PATHS.jwks, methods: ['GET'] },
  { path: FACADE_PATHS.openidConfiguration, methods: ['GET', 'OPTIONS'] },
  { path: FACADE_PATHS.authorize, methods: ['GET'], throttle: { rateLimit: 20, burstLimit: 40 } },
  { path: FACADE_PATHS.consent, methods: ['POST'], throttle: { rateLimit: 20, burstLimit: 40 } },
  { path: FACADE_PATHS.callback, methods: ['GET'], throttle: { rateLimit: 20, burstLimit: 40 } },
  {
    path: FACADE_PATHS.token,
    methods: ['POST', 'OPTIONS'],
    throttle: { rateLimit: 50, burstLimit: 100 },
  },
  {
    path: FACADE_PATHS.register,
    methods: ['POST', 'OPTIONS'],
    throttle: { rateLimit: 2, burstLimit: 5 },
  },
  // Each POST is a sign-up (an e-mail from the pool): few, for everyone together.
  {
    path: FACADE_PATHS.invitation,
    methods: ['GET', 'POST'],
    throttle: { rateLimit: 2, burstLimit: 5 },
  },
  {
    path: FACADE_PATHS.invitationConfirm,
    methods: ['POST'],
    throttle: { rateLimit: 2, burstLimit: 5 },
  },
];

/**
 * How long a rotated-away refresh token still works, at Cognito (the app client's setting) and
 * at the façade alike: a client whose answer was lost may retry within it.
 */
export const REFRESH_ROTATION_GRACE_SECONDS = 10;

/** The façade's absolute URLs for a public API base URL. */
export function facadeUrls(apiBaseUrl: string) {
  const base = apiBaseUrl.replace(/\/+$/, '');
  return {
    issuer: base,
    ...(Object.fromEntries(
      Object.entries(FACADE_PATHS).map(([name, path]) => [name, `${base}${path}`]),
    ) as Record<keyof typeof FACADE_PATHS, string>),
  };
}

/** The link that takes an invited person to the invitation page with its code. */
export function invitationLink(apiBaseUrl: string, code: string): string {
  return `${facadeUrls(apiBaseUrl).invitation}?code=${encodeURIComponent(code)}`;
}

/** Where MCP Inspector receives the authorization code, used unless configured otherwise. */
export const DEFAULT_CALLBACK_URLS = [
  'http://localhost:6274/oauth/callback',
  'http://localhost:6274/oauth/callback/debug',
  'http://127.0.0.1:6274/oauth/callback',
  'http://127.0.0.1:6274/oauth/callback/debug',
] as const;
