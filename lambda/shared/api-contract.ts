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

/** Gateway responses API Gateway answers itself, before or instead of the integration. */
export const GATEWAY_RESPONSES = {
  /** No, malformed or rejected token: carries the `WWW-Authenticate` challenge. */
  UNAUTHORIZED: { statusCode: 401, message: 'Unauthorized' },
  /** Valid token, but the tenant is unknown, suspended or deleted. */
  ACCESS_DENIED: { statusCode: 403, message: 'Forbidden' },
  /** The authorizer failed (for example the issuer's keys were unreachable). */
  AUTHORIZER_FAILURE: { statusCode: 500, message: 'Internal error' },
  /** A path or method the API does not have (API Gateway's default would be a 403). */
  MISSING_AUTHENTICATION_TOKEN: { statusCode: 404, message: 'Not found' },
} as const;
export type GatewayResponseType = keyof typeof GATEWAY_RESPONSES;

export function gatewayResponseBody(type: GatewayResponseType): string {
  return JSON.stringify({ message: GATEWAY_RESPONSES[type].message });
}
