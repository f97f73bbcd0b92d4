import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { EXECUTION_TENANT_KEY } from '../shared/edge/execution-tenant.js';
import { jsonRpcError } from './http.js';

/**
 * Defence in depth for Lambda tenant isolation. Lambda runs a PER_TENANT function's invocation
 * only in environments of the invocation's tenant id, which API Gateway maps from the
 * authorizer's `executionTenant` (lib/constructs/mcp-api.ts), and the Node.js runtime hands the
 * handler that id as `context.tenantId`. Should the mapping ever name anything else (a header a
 * client sends, another context key, a constant), one tenant's request would run in an
 * environment another tenant's requests warmed: so an invocation that carries a tenant id is
 * served only if it is exactly the execution tenant the authorizer chose for the caller.
 *
 * An invocation without a tenant id is served: the function is then not PER_TENANT (Lambda
 * refuses to invoke a PER_TENANT function without one), and there is no environment to mix up.
 */
export function executionTenantMismatch(
  invokedTenantId: string | undefined,
  authorizer: APIGatewayProxyEvent['requestContext']['authorizer'],
): { invokedTenantId: string; executionTenant: string | undefined } | undefined {
  if (invokedTenantId === undefined || invokedTenantId === null) return undefined;
  const expected = authorizer?.[EXECUTION_TENANT_KEY];
  if (typeof expected === 'string' && expected !== '' && expected === invokedTenantId) {
    return undefined;
  }
  return {
    invokedTenantId: invokedTenantId.slice(0, 300),
    executionTenant: typeof expected === 'string' ? expected.slice(0, 300) : undefined,
  };
}

/**
 * The refusal of an invocation that runs in another tenant's environment, or nothing when it
 * runs where it should: a generic 500 to the caller (nothing it could act on) and an error line
 * with both ids for the operator, since only a misconfigured integration gets here.
 */
export function refuseForeignEnvironment(
  event: APIGatewayProxyEvent,
  context: Pick<Context, 'tenantId'>,
  logger: Logger,
  headers: Record<string, string> = {},
): APIGatewayProxyResult | undefined {
  const mismatch = executionTenantMismatch(context.tenantId, event.requestContext.authorizer);
  if (!mismatch) return undefined;
  const tenantId = event.requestContext.authorizer?.tenantId;
  logger.error('Refused: the invocation runs in another execution tenant than the caller’s', {
    ...(typeof tenantId === 'string' ? { tenantId: tenantId.slice(0, 64) } : {}),
    ...mismatch,
  });
  const refusal = jsonRpcError(500, -32603, 'Internal error.');
  return { ...refusal, headers: { ...refusal.headers, ...headers } };
}
