import * as z from 'zod';
import { RoleSchema, TierNameSchema } from '../../shared/tenancy/tenant.js';
import { defineTool } from './tool.js';

export const whoami = defineTool({
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
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: async (_input, deps) => ({
    tenantId: deps.context.tenantId,
    tier: deps.context.tier,
    role: deps.context.role,
    userId: deps.context.sub,
    tools: [...deps.tools],
  }),
});
