import { FACADE_ROUTES, MCP_PATH, PROTECTED_RESOURCE_PATH } from './oauth-metadata.js';

/** Which function serves a route. */
export type RouteHandler = 'mcp' | 'protectedResource' | 'authorizationServer';

export interface ApiRoute {
  readonly path: string;
  readonly methods: readonly string[];
  /** Behind the Lambda TOKEN authorizer and the tenant's API key; otherwise anonymous. */
  readonly authorized: boolean;
  readonly handler: RouteHandler;
  /** A per-method limit below the stage's, for all callers together (anonymous routes). */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * `OPTIONS` is answered by API Gateway itself (a mock integration, no authorizer) with the
   * console's CORS preflight (lambda/shared/edge/console-cors.ts).
   */
  readonly consolePreflight?: boolean;
}

/**
 * Every route of the REST API, in one list: the CDK constructs add exactly these methods
 * (lib/constructs/mcp-api.ts, authorization-facade.ts) and the local gateway serves exactly
 * these (local/gateway.ts); test/infra/routes.test.ts compares the synthesized API with it.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  // GET and DELETE are answered 405 by the MCP function (stateless: no stream, no session).
  {
    path: MCP_PATH,
    methods: ['POST', 'GET', 'DELETE'],
    authorized: true,
    handler: 'mcp',
    consolePreflight: true,
  },
  // RFC 9728 metadata: at the root, and at the path of the resource it describes.
  {
    path: PROTECTED_RESOURCE_PATH,
    methods: ['GET'],
    authorized: false,
    handler: 'protectedResource',
  },
  {
    path: `${PROTECTED_RESOURCE_PATH}${MCP_PATH}`,
    methods: ['GET'],
    authorized: false,
    handler: 'protectedResource',
  },
  ...FACADE_ROUTES.map((route) => ({
    ...route,
    authorized: false,
    handler: 'authorizationServer' as const,
  })),
];

export function routesOf(handler: RouteHandler): readonly ApiRoute[] {
  return API_ROUTES.filter((route) => route.handler === handler);
}
