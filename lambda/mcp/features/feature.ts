import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type CallToolResult,
  type GetPromptResult,
  type McpServer,
  type ReadResourceResult,
  type Resource,
  ResourceNotFoundError,
  ResourceTemplate,
  type ToolAnnotations,
} from '@modelcontextprotocol/server';
import type * as z from 'zod';
import { TIER_NAMES, type TierName } from '../../shared/fair-use/tiers.js';
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  publicMessageOf,
} from '../../shared/platform/errors.js';
import { emitMetric, errorFields, METRIC } from '../../shared/platform/observability.js';
import { currentScope } from '../../shared/platform/request-scope.js';
import {
  type CollectionDefinition,
  CrossTenantCursorError,
} from '../../shared/tenancy/collection.js';
import type { TenantContext } from '../../shared/tenancy/context.js';
import type { TenantScope } from '../../shared/tenancy/scope.js';
import type { Role } from '../../shared/tenancy/tenant.js';
import { jsonSchemaOnce } from './json-schema-once.js';

/**
 * A feature: one domain's tools, resources and prompts, in `features/<name>/`. Each part says
 * on itself which tiers and roles may see it; the server registers, for each request, only
 * what the caller may use, each bound to the caller's `TenantScope`.
 */
export interface Feature {
  readonly name: string;
  /**
   * The collections the feature keeps in the tenant's partition: the adversarial suite checks
   * that it attacks a record of each.
   */
  readonly collections?: readonly Pick<CollectionDefinition<{ id: string }, never>, 'prefix'>[];
  readonly tools: readonly ToolDefinition[];
  readonly resources?: readonly ResourceDefinition[];
  readonly prompts?: readonly PromptDefinition[];
}

/** Who may see and use a tool, resource or prompt. */
export interface Access {
  /** Tenants of this tier and the tiers above. @default 'free' (every tier) */
  readonly minTier?: TierName;
  /** Only members with this role. @default any role */
  readonly requiredRole?: Role;
}

export function allows(access: Access, caller: Pick<TenantContext, 'tier' | 'role'>): boolean {
  const rank = (tier: TierName) => TIER_NAMES.indexOf(tier);
  return (
    rank(caller.tier) >= rank(access.minTier ?? 'free') &&
    (access.requiredRole === undefined || access.requiredRole === caller.role)
  );
}

/**
 * Whether an agent's grant (if the caller is an agent, or a person's delegation to one) covers
 * a tool: it must be in the agent's tools, and a read-only agent gets read-only tools only.
 * A person who is no agent is not limited here.
 */
export function agentMay(
  tool: Pick<ToolDefinition, 'name' | 'readOnly'>,
  caller: Pick<TenantContext, 'agentId' | 'agentTools' | 'agentAccess'>,
): boolean {
  if (caller.agentId === undefined) return true;
  const granted = (caller.agentTools ?? '').split(' ').includes(tool.name);
  return granted && (caller.agentAccess === 'write' || tool.readOnly);
}

/** A part's access as it declares it (absent when not declared, so the defaults apply). */
function accessOf({ minTier, requiredRole }: Access): Access {
  return { ...(minTier ? { minTier } : {}), ...(requiredRole ? { requiredRole } : {}) };
}

/** What the server tells a tool about the request besides the scope. */
export interface ServedTools {
  /** The tools this caller can see (tier and role applied). */
  readonly tools: readonly string[];
  /** The tools an agent of the caller's tenant may be given: a member's, on its tier. */
  readonly grantable: readonly Pick<ToolDefinition, 'name' | 'readOnly'>[];
}

export interface ToolDefinition extends Access {
  readonly name: string;
  /** Declared read-only (`readOnlyHint`): the only tools a read-only agent may call. */
  readonly readOnly: boolean;
  /** What the tool accepts (read by the adversarial suite to aim its attacks). */
  readonly inputSchema: z.ZodObject;
  register(server: McpServer, scope: TenantScope, served: ServedTools): void;
}

/** A tool as written: its schemas (built once, at module load) and what it does. */
export interface ToolSpec<Input extends z.ZodObject, Output extends z.ZodObject> extends Access {
  /** Lower-case letters, digits and underscores, unique across features. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: Input;
  readonly outputSchema: Output;
  readonly annotations: ToolAnnotations;
  run(input: z.output<Input>, scope: TenantScope, served: ServedTools): Promise<z.input<Output>>;
}

export function defineTool<Input extends z.ZodObject, Output extends z.ZodObject>(
  spec: ToolSpec<Input, Output>,
): ToolDefinition {
  const { name, minTier, requiredRole, run, inputSchema, outputSchema, ...config } = spec;
  const schemas = {
    inputSchema: jsonSchemaOnce<z.ZodObject>(inputSchema),
    outputSchema: jsonSchemaOnce<z.ZodObject>(outputSchema),
  };
  const access = accessOf({ minTier, requiredRole });
  const readOnly = config.annotations.readOnlyHint === true;
  return {
    name,
    ...access,
    readOnly,
    inputSchema,
    register(server, scope, served) {
      server.registerTool(name, { ...config, ...schemas }, (input) => {
        // The arguments passed validation: the call is served (and counted) from here on.
        currentScope()?.startWork();
        return runTool(scope.logger, name, async () => {
          // Registration already hides the tool from callers it is not for; this guards the
          // call itself.
          if (!allows(access, scope.context) || !agentMay({ name, readOnly }, scope.context)) {
            throw new ForbiddenError('This tool is not available to you.');
          }
          // What the tool returns is cut to its output schema: a field the schema does not
          // name (a sealed field a tool forgot to leave out) never reaches the caller.
          return outputSchema.parse(await run(input as z.output<Input>, scope, served));
        });
      });
    },
  };
}

/**
 * Runs a tool body and maps its outcome to a tool result: structured output on success; on
 * failure a generic message for the caller (`isError`) and the details in a log line.
 */
async function runTool<T extends Record<string, unknown>>(
  logger: Logger,
  tool: string,
  body: () => Promise<T>,
): Promise<CallToolResult> {
  try {
    const output = await body();
    return {
      content: [{ type: 'text', text: JSON.stringify(output) }],
      structuredContent: output,
    };
  } catch (error) {
    logToolError(logger, tool, error);
    return { isError: true, content: [{ type: 'text', text: publicMessageOf(error) }] };
  }
}

export interface ResourceDefinition extends Access {
  readonly name: string;
  register(server: McpServer, scope: TenantScope): void;
}

/** A resource template (`note://{id}`) whose items are read from the caller's tenant. */
export function defineResource(
  spec: Access & {
    readonly name: string;
    readonly uriTemplate: string;
    readonly title: string;
    readonly description: string;
    readonly mimeType: string;
    list(scope: TenantScope): Promise<Resource[]>;
    read(
      uri: URL,
      variables: Record<string, string | string[]>,
      scope: TenantScope,
    ): Promise<ReadResourceResult>;
  },
): ResourceDefinition {
  const { name, minTier, requiredRole, uriTemplate, list, read, ...metadata } = spec;
  return {
    name,
    ...accessOf({ minTier, requiredRole }),
    register(server, scope) {
      server.registerResource(
        name,
        new ResourceTemplate(uriTemplate, {
          list: async () => {
            currentScope()?.startWork();
            return { resources: await list(scope) };
          },
        }),
        metadata,
        async (uri, variables) => {
          currentScope()?.startWork();
          try {
            return await read(uri, variables, scope);
          } catch (error) {
            logToolError(scope.logger, 'resources/read', error);
            if (error instanceof NotFoundError) throw new ResourceNotFoundError(uri.href);
            throw new Error('Internal error.');
          }
        },
      );
    },
  };
}

export interface PromptDefinition extends Access {
  readonly name: string;
  register(server: McpServer): void;
}

/** A prompt: arguments in, messages out. Prompts read no tenant data. */
export function definePrompt<Args extends z.ZodObject>(
  spec: Access & {
    readonly name: string;
    readonly title: string;
    readonly description: string;
    readonly argsSchema: Args;
    messages(args: z.output<Args>): GetPromptResult['messages'];
  },
): PromptDefinition {
  const { name, minTier, requiredRole, messages, ...config } = spec;
  return {
    name,
    ...accessOf({ minTier, requiredRole }),
    register(server) {
      server.registerPrompt(
        name,
        config as never,
        ((args: z.output<Args>) => {
          currentScope()?.startWork();
          return { messages: messages(args) };
        }) as never,
      );
    },
  };
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
