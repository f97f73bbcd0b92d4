import * as z from 'zod';
import { RoleSchema, TierNameSchema } from '../../../shared/tenancy/tenant.js';
import { defineTool, type Feature } from '../feature.js';

/** Who the connection acts for: tenant, tier, role and the tools it can see. */
export const whoami: Feature = {
  name: 'whoami',
  tools: [
    defineTool({
      name: 'whoami',
      title: 'Who am I',
      description: 'Shows the organisation (tenant), tier and role this connection acts for.',
      inputSchema: z.object({}),
      outputSchema: z.object({
        tenantId: z.string(),
        tier: TierNameSchema,
        role: RoleSchema,
        userId: z.string(),
        tools: z.array(z.string()),
        /** Set when an agent calls, on its own or for the person `userId`. */
        agentId: z.string().optional(),
        agentAccess: z.enum(['read', 'write']).optional(),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
      run: async (_input, { context }, served) => ({
        tenantId: context.tenantId,
        tier: context.tier,
        role: context.role,
        userId: context.sub,
        tools: [...served.tools],
        ...(context.agentId ? { agentId: context.agentId, agentAccess: context.agentAccess } : {}),
      }),
    }),
  ],
};
