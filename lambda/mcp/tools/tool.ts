import type { Logger } from '@aws-lambda-powertools/logger';
import type { CallToolResult, McpServer, ToolAnnotations } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import type { ToolName } from '../../shared/fair-use/tiers.js';
import type { UsageRow } from '../../shared/fair-use/usage-meter.js';
import type { OutboundPolicy } from '../../shared/outbound/outbound.js';
import { AppError, publicMessageOf } from '../../shared/platform/errors.js';
import { emitMetric, errorFields, METRIC } from '../../shared/platform/observability.js';
import { currentScope } from '../../shared/platform/request-scope.js';
import type { OwnTenant } from '../../shared/registry/directory.js';
import type { TenantContext } from '../../shared/tenancy/context.js';
import type { Notes } from '../notes.js';
import { CrossTenantCursorError } from '../notes.js';
import { jsonSchemaOnce } from './json-schema-once.js';

/** What a tool may use while serving one request: all of it scoped to the caller's tenant. */
export interface ToolDeps {
  readonly context: TenantContext;
  readonly notes: Notes;
  /** The caller's own tenant in the registry (info, members, invitations). */
  readonly tenant: OwnTenant;
  /** The caller's tenant's secrets (read and written with the tenant-scoped session). */
  readonly secrets: {
    get(name: string): Promise<string | undefined>;
    put(name: string, value: string): Promise<void>;
  };
  /** The caller's tenant's metered usage (read with the platform's role, for this tenant only). */
  readonly usage: {
    report(from: string, to: string): Promise<UsageRow[]>;
    /** Tool calls counted against this month's budget. */
    budgetSpent(): Promise<number>;
  };
  /** Where tenant-chosen URLs may lead. */
  readonly outbound: OutboundPolicy;
  /** The link of an invitation's code (the façade's invitation page). */
  readonly invitationLink: (code: string) => string;
  readonly logger: Logger;
  /** The tools this caller can see (tier and role applied). */
  readonly tools: readonly ToolName[];
}

export interface ToolDefinition {
  readonly name: ToolName;
  /** Only members with this role see and may call the tool. @default any role */
  readonly requiredRole?: TenantContext['role'];
  register(server: McpServer, deps: ToolDeps): void;
}

/** A tool as written: its schemas (built once, at module load) and what it does. */
export interface ToolSpec<Input extends z.ZodObject, Output extends z.ZodObject> {
  readonly name: ToolName;
  readonly requiredRole?: TenantContext['role'];
  readonly title: string;
  readonly description: string;
  readonly inputSchema: Input;
  readonly outputSchema: Output;
  readonly annotations: ToolAnnotations;
  run(input: z.output<Input>, deps: ToolDeps): Promise<z.input<Output>>;
}

/** Turns a tool spec into a definition the server registers for one caller. */
export function defineTool<Input extends z.ZodObject, Output extends z.ZodObject>(
  spec: ToolSpec<Input, Output>,
): ToolDefinition {
  const { name, requiredRole, run, inputSchema, outputSchema, ...config } = spec;
  const schemas = {
    inputSchema: jsonSchemaOnce<z.ZodObject>(inputSchema),
    outputSchema: jsonSchemaOnce<z.ZodObject>(outputSchema),
  };
  return {
    name,
    ...(requiredRole ? { requiredRole } : {}),
    register(server, deps) {
      server.registerTool(name, { ...config, ...schemas }, (input) => {
        // The arguments passed validation: the call is served (and counted) from here on.
        currentScope()?.startWork();
        return runTool(deps, name, () => run(input as z.output<Input>, deps));
      });
    },
  };
}

/**
 * Runs a tool body and maps its outcome to a tool result: structured output on success; on
 * failure a generic message for the caller (`isError`) and the details in a log line.
 */
async function runTool<T extends Record<string, unknown>>(
  deps: ToolDeps,
  tool: ToolName,
  body: () => Promise<T>,
): Promise<CallToolResult> {
  try {
    const output = await body();
    return {
      content: [{ type: 'text', text: JSON.stringify(output) }],
      structuredContent: output,
    };
  } catch (error) {
    logToolError(deps.logger, tool, error);
    return { isError: true, content: [{ type: 'text', text: publicMessageOf(error) }] };
  }
}

export function logToolError(logger: Logger, tool: string, error: unknown): void {
  if (error instanceof CrossTenantCursorError) {
    // The tenant named inside the cursor is the caller's claim, not a fact: not logged.
    logger.warn('Cross-tenant attempt refused', { securityEvent: 'cross-tenant-cursor', tool });
    emitMetric(METRIC.crossTenantAttempt);
  } else if (error instanceof AppError && error.status < 500) {
    logger.info('Tool refused the request', { tool, status: error.status, reason: error.message });
  } else {
    logger.error('Tool failed', { tool, ...errorFields(error) });
  }
}
