import { z } from 'zod';
import { RoleSchema, TierNameSchema } from '../../shared/tenant.js';
import { runTool, type ToolDefinition } from './tool.js';

export const whoami: ToolDefinition = {
  name: 'whoami',
  register(server, deps) {
    server.registerTool(
      'whoami',
      {
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
      },
      () =>
        runTool(deps, 'whoami', async () => ({
          tenantId: deps.context.tenantId,
          tier: deps.context.tier,
          role: deps.context.role,
          userId: deps.context.sub,
          tools: [...deps.tools],
        })),
    );
  },
};
