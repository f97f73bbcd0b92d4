/**
 * The service's one name: Powertools' service (logs, metrics, traces; set on every function by
 * lib/constructs/handler-function.ts and by the local harness), the MCP server's name, and the
 * `ManagedBy` tag of the AWS resources it creates per tenant.
 */
export const SERVICE_NAME = 'multi-tenant-mcp';
