import * as z from 'zod';
import { PSEUDONYM_PATTERN } from '../platform/pseudonym.js';
import { AgentAccessSchema, AgentIdSchema } from '../registry/agents.js';
import {
  KmsKeyArnSchema,
  RoleSchema,
  TenantIdSchema,
  TierNameSchema,
  WrappedDataKeySchema,
} from './tenant.js';

/**
 * Who is calling, as the authorizer established it from a verified token and the registry.
 *
 * This is the only place the MCP handler learns the tenant: from the API Gateway authorizer
 * context, which a client cannot write. Headers such as `X-Tenant-Id`, tool arguments and
 * `_meta` never set it.
 */
export const TenantContextSchema = z
  .object({
    tenantId: TenantIdSchema,
    tier: TierNameSchema,
    role: RoleSchema,
    /** The Cognito user id (`sub`). */
    sub: z.string().min(1).max(128),
    /**
     * The user's pseudonym (lambda/shared/platform/pseudonym.ts), computed once by the authorizer: what
     * logs and per-user counters name the user by.
     */
    user: z.string().regex(PSEUDONYM_PATTERN, 'not a user pseudonym'),
    /** The app client the token was issued to. */
    clientId: z.string().min(1).max(128),
    /**
     * Set when an agent calls (lambda/shared/registry/agents.ts): its id, the tools it may call
     * (space-separated: the token's scope, its current allowlist and nothing more) and whether
     * it may only read. With a delegation, `sub` and `user` are the person it acts for.
     */
    agentId: AgentIdSchema.optional(),
    agentTools: z.string().max(4096).optional(),
    agentAccess: AgentAccessSchema.optional(),
    /**
     * The keys its fields are sealed under (crypto.ts): its own KMS key (a tenant of a
     * dedicated tier), its data key wrapped by the pooled key (a pooled tier), or both while a
     * tier change re-seals its data; `sealWith` says which one new fields go under.
     */
    kmsKeyArn: KmsKeyArnSchema.optional(),
    dataKey: WrappedDataKeySchema.optional(),
    sealWith: z.enum(['own', 'pooled']),
    /**
     * The Lambda tenant id the request runs under (`X-Amz-Tenant-Id`, tiers.ts
     * executionTenantOf): the tenant's own for an isolated tier, its tier's pool otherwise.
     */
    executionTenant: z.string().regex(/^(tenant|pool):[a-z0-9-]{1,48}$/, 'not an execution tenant'),
  })
  .refine((c) => (c.sealWith === 'own' ? c.kmsKeyArn : c.dataKey) !== undefined, {
    message: 'the key to seal with is missing',
  });
export type TenantContext = z.infer<typeof TenantContextSchema>;

/**
 * Reads the tenant context from `event.requestContext.authorizer`. Anything missing or
 * malformed is an error: a request is never served under a default tenant.
 */
export function tenantContextFromAuthorizer(authorizer: unknown): TenantContext {
  const parsed = TenantContextSchema.safeParse(authorizer);
  if (!parsed.success) {
    throw new Error(`Authorizer context is missing or malformed: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
