import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import {
  API_KEY_PROPAGATION_SECONDS,
  API_STAGE_NAME,
  AUTHORIZATION_HEADER_PATTERN,
  AUTHORIZER_CACHE_TTL_SECONDS,
  GATEWAY_RESPONSE_HEADERS,
  GATEWAY_RESPONSES,
  type GatewayResponseType,
  gatewayResponseBody,
} from '../lambda/shared/edge/api-contract.js';
import { consoleCorsHeaders, consolePreflightHeaders } from '../lambda/shared/edge/console-cors.js';
import { TENANT_ID_HEADER } from '../lambda/shared/edge/execution-tenant.js';
import { API_ROUTES, type ApiRoute } from '../lambda/shared/edge/routes.js';
import type { FunctionTenancy } from './deployed-contract.js';
import { lambdaContext } from './lambda-context.js';
import { proxyEvent } from './proxy-event.js';
import { type PlanLimits, UsagePlanLimits } from './usage-plan-limits.js';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

export interface GatewayOptions {
  readonly authorizer: Handler<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>;
  readonly mcp: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  readonly protectedResource: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  readonly authorizationServer: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  /** The `WWW-Authenticate` value of a 401 (the same string the CDK app configures). */
  readonly challenge: string;
  /** API Gateway's payload limit. @default 10 MiB */
  readonly maxPayloadBytes?: number;
  /** @default AUTHORIZER_CACHE_TTL_SECONDS, as deployed; tests shorten it */
  readonly authorizerCacheTtlSeconds?: number;
  /**
   * How long an API key's state (enabled, plan) is reused, as API Gateway's data plane does:
   * a disabled key is refused there within about ten seconds, not on the very next request.
   * @default API_KEY_PROPAGATION_SECONDS; tests use 0 to see a change on the next request
   */
  readonly apiKeyCacheTtlSeconds?: number;
  /**
   * Looks up the API key the authorizer named (`usageIdentifierKey`): whether it is enabled
   * and in a usage plan, as API Gateway checks for methods that require an API key.
   */
  readonly apiKey: (value: string) => Promise<ApiKeyState | undefined>;
  /**
   * The tenant console's origin: `OPTIONS` on the authorized routes is answered with its
   * preflight, and their gateway responses carry its CORS headers, as the CDK app configures
   * API Gateway (a mock integration and static response headers).
   */
  readonly consoleOrigin: string;
  /**
   * Lambda tenant isolation as deployed, by `lambda/` entry (local/deployed-contract.ts): the
   * tenant id each route's integration maps (`X-Amz-Tenant-Id`), handed to the handler as
   * Lambda's `context.tenantId`, and which functions are PER_TENANT.
   * @default - none: no function is PER_TENANT and no integration maps a tenant id
   */
  readonly tenancy?: Readonly<Record<string, FunctionTenancy>>;
}

export interface ApiKeyState {
  readonly id: string;
  readonly enabled: boolean;
  /** The usage plan the key is in, with its throttle and quota; none if in no plan. */
  readonly plan?: PlanLimits;
}

/** The `lambda/` entry of each route handler (its deployed timeout is the local deadline). */
const ENTRY_OF = {
  mcp: 'mcp',
  protectedResource: 'protected-resource',
  authorizationServer: 'authorization-server',
} as const;

/** The REST API's routes: the one list CDK builds the API from (lambda/shared/edge/routes.ts). */
export const LOCAL_ROUTES: readonly ApiRoute[] = API_ROUTES;

/** What API Gateway answers for a path outside the stage (not a gateway response: fixed). */
const OUTSIDE_STAGE = { status: 403, body: JSON.stringify({ message: 'Forbidden' }) };

export { API_KEY_PROPAGATION_SECONDS };

const METHOD_ARN_PREFIX = `arn:aws:execute-api:us-east-1:000000000000:local/${API_STAGE_NAME}`;

/**
 * A stand-in for API Gateway (REST, Lambda proxy integrations) that runs the real handlers in
 * this process: it routes, calls the TOKEN authorizer with the Authorization header and caches
 * its policy per token like API Gateway, checks the API key the authorizer names and applies
 * its usage plan's rate, burst and quota, answers the same gateway responses, builds the proxy
 * event with the authorizer's context, and maps the result back to HTTP. For a function under
 * Lambda tenant isolation it maps the invocation's tenant id as the integration does (from the
 * authorizer's context), and fails the invocation as Lambda does when it has none.
 */
export function createGateway(options: GatewayOptions) {
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; until: number }>();
  const maxPayload = options.maxPayloadBytes ?? 10 * 1024 * 1024;
  const cacheTtlMs = (options.authorizerCacheTtlSeconds ?? AUTHORIZER_CACHE_TTL_SECONDS) * 1000;
  const headerPattern = new RegExp(AUTHORIZATION_HEADER_PATTERN);
  const apiKeys = new Map<string, { state: ApiKeyState | undefined; until: number }>();
  const planLimits = new UsagePlanLimits();
  const apiKeyTtlMs = (options.apiKeyCacheTtlSeconds ?? API_KEY_PROPAGATION_SECONDS) * 1000;
  for (const [entry, tenancy] of Object.entries(options.tenancy ?? {})) {
    if (tenancy.tenantIdSource !== undefined) checkMappingSource(entry, tenancy.tenantIdSource);
  }
  const apiKey = async (value: string) => {
    const cached = apiKeys.get(value);
    if (cached && cached.until > Date.now()) return cached.state;
    const state = await options.apiKey(value);
    if (apiKeyTtlMs > 0) apiKeys.set(value, { state, until: Date.now() + apiKeyTtlMs });
    return state;
  };

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Every resource lives under the stage, as on execute-api: `/<stage>/mcp`. A client that
    // looks elsewhere on the host (RFC 8414 path insertion) finds nothing, as on AWS.
    const stage = `/${API_STAGE_NAME}`;
    if (!url.pathname.startsWith(`${stage}/`)) {
      res.writeHead(OUTSIDE_STAGE.status, { 'content-type': 'application/json' });
      res.end(OUTSIDE_STAGE.body);
      return;
    }
    url.pathname = url.pathname.slice(stage.length);
    const route = LOCAL_ROUTES.find((r) => r.path === url.pathname);
    const method = req.method ?? 'GET';
    if (route?.consolePreflight && method === 'OPTIONS') {
      // API Gateway's mock integration: the same static answer whatever the request says.
      res.writeHead(204, consolePreflightHeaders(options.consoleOrigin));
      res.end();
      return;
    }
    if (!route?.methods.includes(method)) {
      return sendGatewayResponse(res, 'MISSING_AUTHENTICATION_TOKEN');
    }
    const body = await readBody(req, maxPayload);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Request Too Long' }));
      return;
    }

    let authorizer: Record<string, unknown> | null = null;
    if (route.authorized) {
      const outcome = await authorize(req, method, route.path);
      if (typeof outcome === 'string') return sendGatewayResponse(res, outcome);
      authorizer = outcome;
    }

    const event = proxyEvent(
      {
        method,
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      },
      route.path,
      authorizer,
    );
    const entry = ENTRY_OF[route.handler];
    const tenancy = options.tenancy?.[entry];
    const tenantId =
      tenancy?.tenantIdSource !== undefined
        ? mappedValue(tenancy.tenantIdSource, authorizer, req)
        : undefined;
    const refusal =
      (tenancy?.perTenant ?? false) !== (tenantId !== undefined)
        ? `${tenancy?.perTenant ? 'PER_TENANT without' : 'not PER_TENANT, with'} a tenant id`
        : tenantId !== undefined && !LAMBDA_TENANT_ID.test(tenantId)
          ? 'a tenant id Lambda does not accept'
          : undefined;
    if (refusal) {
      // Lambda refuses the Invoke call (InvalidParameterValueException) for a PER_TENANT function
      // without a tenant id, for any other function with one, and for a malformed one; API
      // Gateway then answers 500.
      process.stderr.write(
        `gateway: lambda/${entry} not invoked: ${refusal} (${TENANT_ID_HEADER})\n`,
      );
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal server error' }));
      return;
    }
    let result: APIGatewayProxyResult;
    try {
      result = await options[route.handler](
        event,
        lambdaContext(entry, undefined, tenantId !== undefined ? { tenantId } : {}),
      );
    } catch (error) {
      process.stderr.write(`gateway: ${route.handler} failed: ${(error as Error).stack}\n`);
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal server error' }));
      return;
    }
    const headers: Record<string, string | string[]> = { ...result.headers } as Record<
      string,
      string
    >;
    for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
      headers[name] = values.map(String);
    }
    res.writeHead(result.statusCode, headers);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  };

  /** The authorizer context, or the gateway response to answer instead. */
  async function authorize(
    req: IncomingMessage,
    method: string,
    resource: string,
  ): Promise<Record<string, unknown> | GatewayResponseType> {
    const token = req.headers.authorization;
    // API Gateway does not call a TOKEN authorizer when its identity source is missing or
    // does not match the validation expression.
    if (!token || !headerPattern.test(token)) return 'UNAUTHORIZED';
    const methodArn = `${METHOD_ARN_PREFIX}/${method}${resource}`;
    let cached = cache.get(token);
    if (!cached || cached.until <= Date.now()) {
      try {
        const result = await options.authorizer(
          { type: 'TOKEN', authorizationToken: token, methodArn },
          lambdaContext('authorizer'),
        );
        cached = { result, until: Date.now() + cacheTtlMs };
        cache.set(token, cached);
      } catch (error) {
        // As API Gateway: a TOKEN authorizer's error means 401 only when its message is
        // exactly "Unauthorized" (the class is lost crossing the Lambda boundary); any other
        // failure is a 500 configuration error.
        return (error as Error).message === 'Unauthorized'
          ? 'UNAUTHORIZED'
          : 'AUTHORIZER_CONFIGURATION_ERROR';
      }
    }
    if (!policyAllows(cached.result, methodArn)) return 'ACCESS_DENIED';
    // Every /mcp method requires an API key, which the authorizer supplies.
    const key = cached.result.usageIdentifierKey
      ? await apiKey(cached.result.usageIdentifierKey)
      : undefined;
    if (!key?.enabled || !key.plan) return 'INVALID_API_KEY';
    // The tenant's own usage plan: its rate, burst and quota, per API key.
    const verdict = planLimits.admit(key.id, key.plan);
    if (verdict !== 'allowed') return verdict;
    return { ...cached.result.context, principalId: cached.result.principalId };
  }

  /** Gateway responses are the API's, not a route's: each carries the console's CORS headers. */
  function sendGatewayResponse(res: ServerResponse, type: GatewayResponseType): void {
    res.writeHead(GATEWAY_RESPONSES[type].statusCode, {
      'content-type': 'application/json',
      ...consoleCorsHeaders(options.consoleOrigin),
      ...GATEWAY_RESPONSE_HEADERS[type],
      ...(type === 'UNAUTHORIZED' ? { 'www-authenticate': options.challenge } : {}),
    });
    res.end(gatewayResponseBody(type));
  }
}

/**
 * The mapping expressions the gateway evaluates for a tenant id (API Gateway REST parameter
 * mapping): the authorizer's context, a method request header, a static value. Any other
 * stops the gateway at start rather than be mapped to something else.
 */
/**
 * A tenant id Lambda accepts: 1 to 256 of these characters (Lambda API reference, `TenantId`;
 * the execution tenants `tenant:<id>` and `pool:<tier>` are of this form).
 */
const LAMBDA_TENANT_ID = /^[a-zA-Z0-9._:/=+\-@ ]{1,256}$/;

const MAPPING_SOURCE =
  /^(context\.authorizer\.[A-Za-z0-9_]+|method\.request\.header\.[A-Za-z0-9-]+|'[^']*')$/;

function checkMappingSource(entry: string, source: string): void {
  if (!MAPPING_SOURCE.test(source)) {
    throw new Error(
      `lambda/${entry}: the local gateway cannot map ${TENANT_ID_HEADER} from ${source}`,
    );
  }
}

/** The value a mapping expression gives for this request; none if its source is empty. */
function mappedValue(
  source: string,
  authorizer: Record<string, unknown> | null,
  req: IncomingMessage,
): string | undefined {
  let value: unknown;
  if (source.startsWith("'")) value = source.slice(1, -1);
  else if (source.startsWith('context.authorizer.')) {
    value = authorizer?.[source.slice('context.authorizer.'.length)];
  } else value = req.headers[source.slice('method.request.header.'.length).toLowerCase()];
  if (value === undefined || value === null || value === '') return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** IAM-style evaluation of the authorizer's policy: an explicit Deny wins, else an Allow must match. */
function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const matching = result.policyDocument.Statement.filter((statement) => {
    const resources = 'Resource' in statement ? [statement.Resource].flat() : [];
    return resources.some((pattern) => globMatch(String(pattern), methodArn));
  });
  if (matching.some((s) => s.Effect === 'Deny')) return false;
  return matching.some((s) => s.Effect === 'Allow');
}

const globs = new Map<string, RegExp>();

function globMatch(pattern: string, value: string): boolean {
  let regex = globs.get(pattern);
  if (!regex) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    regex = new RegExp(`^${source}$`);
    globs.set(pattern, regex);
  }
  return regex.test(value);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
