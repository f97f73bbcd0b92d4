import type { TenantContext } from '../tenancy/context.js';

/**
 * How a request reaches the MCP function's execution environments under Lambda tenant
 * isolation (`TenancyConfig` PER_TENANT): API Gateway REST invokes the function with the
 * `X-Amz-Tenant-Id` header, set by a mapping of the integration request, and Lambda runs the
 * invocation only in environments of that tenant id. The Node.js runtime hands the id to the
 * handler as `context.tenantId`. The CDK app (lib/constructs/mcp-api.ts), the local gateway and
 * the handler's own check (lambda/mcp/execution-tenant.ts) read these names from here.
 */

/** The Lambda Invoke header that names an invocation's tenant. */
export const TENANT_ID_HEADER = 'X-Amz-Tenant-Id';

/** The integration request parameter that sets it (API Gateway REST parameter mapping). */
export const TENANT_ID_PARAMETER = `integration.request.header.${TENANT_ID_HEADER}`;

/** The authorizer context key that names the execution tenant (lambda/shared/fair-use/tiers.ts). */
export const EXECUTION_TENANT_KEY = 'executionTenant' satisfies keyof TenantContext;

/**
 * Where the tenant id comes from: the verified authorizer's context, never anything a client
 * writes (a header, the path, the body).
 */
export const TENANT_ID_SOURCE = `context.authorizer.${EXECUTION_TENANT_KEY}`;
