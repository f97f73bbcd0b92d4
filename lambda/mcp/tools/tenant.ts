import * as z from 'zod';
import { RoleSchema, TierNameSchema } from '../../shared/tenant.js';
import { TIERS } from '../../shared/tiers.js';
import { defineTool } from './tool.js';

const UserSchema = z.object({ userId: z.string(), email: z.string().optional(), role: RoleSchema });

export const tenantInfo = defineTool({
  name: 'tenant_info',
  title: 'Organisation info',
  description: "Shows your organisation's name, tier, status and limits.",
  inputSchema: z.object({}),
  outputSchema: z.object({
    tenantId: z.string(),
    name: z.string(),
    tier: TierNameSchema,
    status: z.string(),
    limits: z.object({
      requestsPerSecond: z.number(),
      burst: z.number(),
      quota: z.number(),
      quotaPeriod: z.string(),
    }),
  }),
  annotations: { readOnlyHint: true },
  run: async (_input, deps) => {
    const tenant = await deps.tenant.info();
    const tier = TIERS[tenant.tier];
    return {
      tenantId: tenant.tenantId,
      name: tenant.name,
      tier: tenant.tier,
      status: tenant.status,
      limits: {
        requestsPerSecond: tier.throttle.rateLimit,
        burst: tier.throttle.burstLimit,
        quota: tier.quota.limit,
        quotaPeriod: tier.quota.period,
      },
    };
  },
});

export const tenantUsersList = defineTool({
  name: 'tenant_users_list',
  requiredRole: 'admin',
  title: 'List members',
  description: 'Lists the members of your organisation and their roles. Admins only.',
  inputSchema: z.object({}),
  outputSchema: z.object({ users: z.array(UserSchema) }),
  annotations: { readOnlyHint: true },
  run: async (_input, deps) => ({
    users: (await deps.tenant.members()).map((m) => ({
      userId: m.userSub,
      ...(m.email ? { email: m.email } : {}),
      role: m.role,
    })),
  }),
});

export const tenantUsersInvite = defineTool({
  name: 'tenant_users_invite',
  requiredRole: 'admin',
  title: 'Invite a member',
  description:
    'Invites a person into your organisation; they receive a temporary password by e-mail. Admins only.',
  inputSchema: z.object({
    email: z.email().max(254),
    role: RoleSchema.default('member'),
  }),
  outputSchema: UserSchema,
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: true,
  },
  run: async ({ email, role }, deps) => {
    const membership = await deps.tenant.invite(email, role);
    return { userId: membership.userSub, email: membership.email, role: membership.role };
  },
});
