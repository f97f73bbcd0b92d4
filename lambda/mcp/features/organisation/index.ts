import * as z from 'zod';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../../shared/edge/api-contract.js';
import { TIERS } from '../../../shared/fair-use/tiers.js';
import { INVITATIONS_PER_DAY } from '../../../shared/registry/invitations.js';
import { RoleSchema, TierNameSchema } from '../../../shared/tenancy/tenant.js';
import { defineTool, type Feature } from '../feature.js';

const UserSchema = z.object({ userId: z.string(), email: z.string().optional(), role: RoleSchema });
/** A member as the list shows them: with the pseudonym the audit trail names them by. */
const MemberSchema = UserSchema.extend({ user: z.string() });

const tenantInfo = defineTool({
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
  run: async (_input, scope) => {
    const tenant = await scope.directory.info();
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

const tenantUsersList = defineTool({
  name: 'tenant_users_list',
  requiredRole: 'admin',
  title: 'List members',
  description: 'Lists the members of your organisation and their roles. Admins only.',
  inputSchema: z.object({}),
  outputSchema: z.object({ users: z.array(MemberSchema) }),
  annotations: { readOnlyHint: true },
  run: async (_input, scope) => ({
    users: await Promise.all(
      (await scope.directory.members()).map(async (m) => ({
        userId: m.userSub,
        ...(m.email ? { email: m.email } : {}),
        role: m.role,
        user: await scope.pseudonymOf(m.userSub),
      })),
    ),
  }),
});

const InvitationSchema = z.object({
  invitationId: z.string(),
  email: z.string(),
  role: RoleSchema,
  status: z.enum(['PENDING', 'ACCEPTED', 'REVOKED', 'EXPIRED']),
  expiresAt: z.string(),
});

const tenantUsersInvite = defineTool({
  name: 'tenant_users_invite',
  requiredRole: 'admin',
  title: 'Invite a person',
  description: `Offers a person a place in your organisation: you get a link (shown once) to send them; they accept by signing up with the invited address through it. Nothing is created until they do, and the offer expires after 7 days. At most ${INVITATIONS_PER_DAY} invitations a day. Admins only.`,
  inputSchema: z.object({
    email: z.email().max(254),
    role: RoleSchema.default('member'),
  }),
  outputSchema: InvitationSchema.extend({ acceptUrl: z.string() }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: false,
  },
  run: async ({ email, role }, scope) => {
    const { invitation, code } = await scope.directory.invite(email, role);
    return {
      invitationId: invitation.invitationId,
      email: invitation.email,
      role: invitation.role,
      status: invitation.status,
      expiresAt: invitation.expiresAt,
      acceptUrl: scope.links.invitation(code),
    };
  },
});

const tenantInvitationsList = defineTool({
  name: 'tenant_invitations_list',
  requiredRole: 'admin',
  title: 'List invitations',
  description:
    "Lists your organisation's invitations: pending, accepted, revoked or expired. Admins only.",
  inputSchema: z.object({}),
  outputSchema: z.object({ invitations: z.array(InvitationSchema) }),
  annotations: { readOnlyHint: true },
  run: async (_input, scope) => ({ invitations: [...(await scope.directory.invitations())] }),
});

const tenantInvitationsRevoke = defineTool({
  name: 'tenant_invitations_revoke',
  requiredRole: 'admin',
  title: 'Withdraw an invitation',
  description: 'Withdraws a pending invitation: its link no longer works. Admins only.',
  inputSchema: z.object({ invitationId: z.string().min(1).max(64) }),
  outputSchema: z.object({ invitationId: z.string(), revoked: z.literal(true) }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  run: async ({ invitationId }, scope) => {
    await scope.directory.revokeInvitation(invitationId);
    return { invitationId, revoked: true as const };
  },
});

/** How long the authorizer may keep allowing a changed member's old token (its cache time). */
const CACHE = `${AUTHORIZER_CACHE_TTL_SECONDS} seconds (the authorizer cache time)`;
const TAKES_EFFECT = `Their current tokens lose the access within ${CACHE}; they sign in again for a token with the new role.`;

const tenantUsersSetRole = defineTool({
  name: 'tenant_users_set_role',
  requiredRole: 'admin',
  title: "Change a member's role",
  description: `Makes a member of your organisation an admin or a member. ${TAKES_EFFECT} The last admin cannot be demoted. Admins only.`,
  inputSchema: z.object({ userId: z.string().min(1).max(128), role: RoleSchema }),
  outputSchema: UserSchema,
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  run: async ({ userId, role }, scope) => {
    const membership = await scope.directory.setRole(userId, role);
    return {
      userId: membership.userSub,
      ...(membership.email ? { email: membership.email } : {}),
      role: membership.role,
    };
  },
});

const tenantUsersRemove = defineTool({
  name: 'tenant_users_remove',
  requiredRole: 'admin',
  title: 'Remove a member',
  description: `Removes a person from your organisation and deletes their account: they can no longer sign in, their tokens stop working within ${CACHE}, and the address can be invited again. The last admin cannot be removed. Admins only.`,
  inputSchema: z.object({ userId: z.string().min(1).max(128) }),
  outputSchema: z.object({ userId: z.string(), removed: z.literal(true) }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  run: async ({ userId }, scope) => {
    await scope.directory.remove(userId);
    return { userId, removed: true as const };
  },
});

/** The organisation itself: its record, members and invitations (admin tools). */
export const organisation: Feature = {
  name: 'organisation',
  tools: [
    tenantInfo,
    tenantUsersList,
    tenantUsersInvite,
    tenantUsersSetRole,
    tenantUsersRemove,
    tenantInvitationsList,
    tenantInvitationsRevoke,
  ],
};
