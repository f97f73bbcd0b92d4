/**
 * How the REST API behaves at its edge, named once for the CDK app (stage, authorizer cache,
 * gateway responses) and the local gateway that stands in for API Gateway.
 */

/** The stage name, the first path segment of the execute-api URL. */
export const API_STAGE_NAME = 'v1';

/**
 * How long API Gateway keeps an authorizer result per token. It is also the longest a
 * suspended tenant's already-issued tokens keep working.
 */
export const AUTHORIZER_CACHE_TTL_SECONDS = 60;

/**
 * How long API Gateway takes to refuse a key after it is disabled: "approximately 10
 * seconds" (AWS re:Post answer; the documentation gives no figure). The local gateway reuses
 * a key's state this long.
 */
export const API_KEY_PROPAGATION_SECONDS = 10;

/** The MCP function's timeout: no request of the MCP API runs longer. */
export const MCP_FUNCTION_TIMEOUT_SECONDS = 29;

/**
 * How long after a tenant's access is cut a request admitted before the cut may still be
 * writing: an authorizer result cached before the cut admits requests for up to the cache
 * time (every later request asks the authorizer, which refuses), and each runs for at most
 * the function's timeout. Offboarding deletes only after this.
 */
export const ACCESS_DRAIN_SECONDS = AUTHORIZER_CACHE_TTL_SECONDS + MCP_FUNCTION_TIMEOUT_SECONDS + 1;

/** Gateway responses API Gateway answers itself, before or instead of the integration. */
export const GATEWAY_RESPONSES = {
  /** No, malformed or rejected token: carries the `WWW-Authenticate` challenge. */
  UNAUTHORIZED: { statusCode: 401, message: 'Unauthorized' },
  /** Valid token, but the tenant is unknown, suspended or deleted. */
  ACCESS_DENIED: { statusCode: 403, message: 'Forbidden' },
  /** The authorizer threw anything but 'Unauthorized' (for example the keys were unreachable). */
  AUTHORIZER_CONFIGURATION_ERROR: { statusCode: 500, message: 'Internal error' },
  /** The authorizer's answer could not be used. */
  AUTHORIZER_FAILURE: { statusCode: 500, message: 'Internal error' },
  /** Any other 5xx API Gateway produces itself. */
  DEFAULT_5XX: { statusCode: 500, message: 'Internal error' },
  /** The tenant's API key is missing, disabled (suspension) or in no usage plan. */
  INVALID_API_KEY: { statusCode: 403, message: 'Forbidden' },
  /** The tenant's usage plan throttled its API key (rate or burst); carries `Retry-After`. */
  THROTTLED: { statusCode: 429, message: 'Too Many Requests' },
  /** The tenant's API key used up its usage plan's quota for the period. */
  QUOTA_EXCEEDED: { statusCode: 429, message: 'Limit Exceeded' },
  /** A path or method the API does not have (API Gateway's default would be a 403). */
  MISSING_AUTHENTICATION_TOKEN: { statusCode: 404, message: 'Not found' },
} as const;
export type GatewayResponseType = keyof typeof GATEWAY_RESPONSES;

/**
 * What API Gateway checks before it calls the TOKEN authorizer: a header that does not match
 * gets 401 without an invocation. The scheme is case-insensitive (RFC 7235); API Gateway's
 * Java regular expressions are spelled out so the same pattern works in JavaScript.
 */
export const AUTHORIZATION_HEADER_PATTERN = '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$';

/** Extra headers of a gateway response, as static values (API Gateway cannot compute them). */
export const GATEWAY_RESPONSE_HEADERS: Partial<
  Record<GatewayResponseType, Record<string, string>>
> = {
  // A token bucket refills within a second or so: tell clients to back off that long.
  THROTTLED: { 'Retry-After': '1' },
};

export function gatewayResponseBody(type: GatewayResponseType): string {
  return JSON.stringify({ message: GATEWAY_RESPONSES[type].message });
}
