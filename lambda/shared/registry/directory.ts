import { randomUUID } from 'node:crypto';
import {
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminUserGlobalSignOutCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import * as z from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { type Role, RoleSchema, type TenantId, TenantIdSchema } from '../tenancy/tenant.js';
import type { Agents, AgentView } from './agents.js';
import type { InvitationRecord, Invitations, InvitationView } from './invitations.js';
import type { MembershipRecord, TenantRecord, TenantRegistry } from './registry.js';

export interface TenantDirectoryDeps {
  /** Reads tenants and member lists. */
  readonly registry: TenantRegistry;
  /**
   * Reads and writes membership items (keyed by user). The MCP function passes a registry on
   * its own role here, and a tenant-scoped one above.
   * @default registry
   */
  readonly memberships?: TenantRegistry;
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  /**
   * Invitations (offers). The MCP function passes them on the tenant-scoped session, which IAM
   * lets reach `INVITES#<its tenant>` only; the CLI on the operator's credentials.
   */
  readonly invitations: Invitations;
  /** Agents, like invitations: on the tenant-scoped session in the MCP function. */
  readonly agents: Agents;
}

const EmailSchema = z.email().max(254);
const UserIdSchema = z.string().min(1).max(128);
/** The same answer for a user of another tenant as for no user at all. */
const NO_SUCH_MEMBER = 'No such member in this organisation.';
const LAST_ADMIN = 'An organisation must keep at least one admin.';
/**
 * How long a removal or demotion may hold the members lease before it passes on: longer than
 * the MCP function's timeout (29 s), so a tool call cannot outlive its lease; the write that
 * relies on the lease is refused in its last LEASE_MARGIN_MS.
 */
const MEMBERS_LEASE_MS = 60_000;
const LEASE_MARGIN_MS = 10_000;

/** What a tenant admin may do for their own tenant, with the tenant fixed. */
export interface OwnTenant {
  info(): Promise<TenantRecord>;
  members(): Promise<MembershipRecord[]>;
  invite(email: string, role: Role): Promise<{ invitation: InvitationRecord; code: string }>;
  invitations(): Promise<InvitationView[]>;
  revokeInvitation(invitationId: string): Promise<void>;
  setRole(userId: string, role: Role): Promise<MembershipRecord>;
  remove(userId: string): Promise<void>;
  /** The tenant's agents (see agents.ts); the tools are checked against the tier by the caller. */
  agents(): Promise<AgentView[]>;
  createAgent(
    input: Omit<Parameters<Agents['create']>[1], 'createdBy'>,
    createdBy: string,
  ): Promise<{ agent: AgentView; clientSecret: string }>;
  rotateAgent(agentId: string): Promise<{ agent: AgentView; clientSecret: string }>;
  revokeAgent(agentId: string): Promise<void>;
}

/**
 * Who belongs to which tenant: reading a tenant and its members, and inviting people. Used
 * by the operator CLI (any tenant) and, through `forTenant`, by the tenant-admin MCP tools,
 * which can only ever name the caller's own tenant.
 */
export class TenantDirectory {
  constructor(private readonly deps: TenantDirectoryDeps) {}

  /** The directory of one tenant: the id is fixed here, no method takes another. */
  forTenant(tenantId: TenantId): OwnTenant {
    return {
      info: () => this.tenant(tenantId),
      members: () => this.members(tenantId),
      invite: (email, role) => this.invite(tenantId, email, role),
      invitations: () => this.invitations(tenantId),
      revokeInvitation: (invitationId) => this.revokeInvitation(tenantId, invitationId),
      setRole: (userId, role) => this.setRole(tenantId, userId, role),
      remove: (userId) => this.remove(tenantId, userId),
      agents: () => this.deps.agents.list(tenantId),
      createAgent: async (input, createdBy) => {
        await this.changeable(tenantId);
        return this.deps.agents.create(tenantId, { ...input, createdBy });
      },
      rotateAgent: (agentId) => this.deps.agents.rotate(tenantId, agentId),
      revokeAgent: (agentId) => this.deps.agents.revoke(tenantId, agentId),
    };
  }

  /** The tenant, or NotFoundError: also for something that is not a tenant id at all. */
  async tenant(tenantId: string): Promise<TenantRecord> {
    const id = TenantIdSchema.safeParse(tenantId);
    const tenant = id.success ? await this.deps.registry.getTenant(id.data) : undefined;
    if (!tenant) throw new NotFoundError('Unknown tenant.');
    return tenant;
  }

  async members(tenantId: string): Promise<MembershipRecord[]> {
    const tenant = await this.tenant(tenantId);
    return this.deps.registry.listMembers(tenant.tenantId);
  }

  /**
   * Offers a person a place in the tenant (see invitations.ts): nothing is created in the user
   * pool, and the answer is the same whether the address has an account or not. The code of
   * the offer's link is returned once, to be passed on to the person.
   */
  async invite(
    tenantId: string,
    email: string,
    role: string,
  ): Promise<{ invitation: InvitationRecord; code: string }> {
    const tenant = await this.tenant(tenantId);
    if (tenant.status !== 'ACTIVE') throw new ConflictError('The organisation is not active.');
    const address = EmailSchema.safeParse(email.trim().toLowerCase());
    if (!address.success) throw new ValidationError('Invalid e-mail address.');
    const parsedRole = RoleSchema.safeParse(role);
    if (!parsedRole.success) throw new ValidationError('Role must be admin or member.');
    return this.deps.invitations.create(tenant.tenantId, address.data, parsedRole.data);
  }

  async invitations(tenantId: string): Promise<InvitationView[]> {
    const tenant = await this.tenant(tenantId);
    return this.deps.invitations.list(tenant.tenantId);
  }

  async revokeInvitation(tenantId: string, invitationId: string): Promise<void> {
    const tenant = await this.tenant(tenantId);
    await this.deps.invitations.revoke(tenant.tenantId, invitationId);
  }

  /**
   * Makes a member an admin or a member. A demoted admin's refresh tokens are revoked (Cognito
   * global sign-out), so their next token, after signing in again, carries the new role; the
   * authorizer applies the registry's role to every request within its cache time. The last
   * admin cannot be demoted.
   */
  async setRole(tenantId: string, userId: string, role: string): Promise<MembershipRecord> {
    const tenant = await this.changeable(tenantId);
    const parsedRole = RoleSchema.safeParse(role);
    if (!parsedRole.success) throw new ValidationError('Role must be admin or member.');
    return this.underLease(tenant.tenantId, async (lease) => {
      const member = await this.member(tenant.tenantId, userId);
      if (member.role === parsedRole.data) return member;
      if (member.role === 'admin') {
        await this.keepAnAdmin(tenant.tenantId, member.userSub);
        // Before the role changes, so a retry after a failure still revokes the tokens.
        await this.signOut(member.userSub);
      }
      lease.check();
      await this.memberships.setMemberRole(member.userSub, tenant.tenantId, parsedRole.data);
      return { ...member, role: parsedRole.data };
    });
  }

  /**
   * Removes a member: access first (their account is disabled and signed out everywhere, so no
   * sign-in or refresh gives them a token), then their account is deleted (the address is free
   * to sign up or be invited again), then the agents they created, and last the membership, so
   * the authorizer refuses their existing tokens and their delegations within its cache time. Each step treats "already done" as done, and the
   * membership goes last, so a removal that failed part way is finished by running it again.
   * The last admin cannot be removed.
   */
  async remove(tenantId: string, userId: string): Promise<void> {
    const tenant = await this.changeable(tenantId);
    await this.underLease(tenant.tenantId, async (lease) => {
      const member = await this.member(tenant.tenantId, userId);
      if (member.role === 'admin') await this.keepAnAdmin(tenant.tenantId, member.userSub);
      const user = this.user(member.userSub);
      await this.cognitoCall(this.deps.cognito.send(new AdminDisableUserCommand(user)));
      await this.signOut(member.userSub);
      await this.cognitoCall(this.deps.cognito.send(new AdminDeleteUserCommand(user)));
      // The agents they made leave with them (their delegations die with the membership).
      await this.deps.agents.revokeAll(tenant.tenantId, member.userSub);
      lease.check();
      await this.memberships.removeMembership(member.userSub, tenant.tenantId);
    });
  }

  private get memberships(): TenantRegistry {
    return this.deps.memberships ?? this.deps.registry;
  }

  /** A tenant whose members may still change: not being or already offboarded. */
  private async changeable(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.tenant(tenantId);
    if (tenant.status === 'OFFBOARDING' || tenant.status === 'DELETED') {
      throw new ConflictError('The organisation is being or has been offboarded.');
    }
    return tenant;
  }

  /** The member, read strongly consistent; NotFoundError for anyone not in this tenant. */
  private async member(tenantId: TenantId, userId: string): Promise<MembershipRecord> {
    const id = UserIdSchema.safeParse(userId);
    const member = id.success ? await this.memberships.getMembership(id.data) : undefined;
    if (member?.tenantId !== tenantId) throw new NotFoundError(NO_SUCH_MEMBER);
    return member;
  }

  /**
   * Refuses (ConflictError) unless another admin than `leaving` is confirmed: the member list
   * comes from an index, which may lag, so each admin in it is read back strongly consistent.
   * Under the members lease no other removal or demotion can run meanwhile; an admin added
   * meanwhile only makes the check stricter than it needs to be.
   */
  private async keepAnAdmin(tenantId: TenantId, leaving: string): Promise<void> {
    const listed = await this.deps.registry.listMembers(tenantId);
    for (const candidate of listed) {
      if (candidate.userSub === leaving || candidate.role !== 'admin') continue;
      const current = await this.memberships.getMembership(candidate.userSub);
      if (current?.tenantId === tenantId && current.role === 'admin') return;
    }
    throw new ConflictError(LAST_ADMIN);
  }

  /**
   * Runs `work` holding the tenant's members lease. The admin check and the registry write
   * that relies on it must both happen while the lease is held: `lease.check()` refuses the
   * write once the lease is near its end (another change may take it over then), so a slow
   * run (Cognito retries, a paused process) fails and can be run again instead of racing.
   */
  private async underLease<T>(
    tenantId: TenantId,
    work: (lease: { check(): void }) => Promise<T>,
  ): Promise<T> {
    const holder = randomUUID();
    const until = Date.now() + MEMBERS_LEASE_MS - LEASE_MARGIN_MS;
    await this.memberships.lockMembers(tenantId, holder, MEMBERS_LEASE_MS);
    try {
      return await work({
        check: () => {
          if (Date.now() > until) {
            throw new ConflictError('The change took too long and was not made; try again.');
          }
        },
      });
    } finally {
      await this.memberships.unlockMembers(tenantId, holder);
    }
  }

  /** Revokes the user's refresh tokens (Cognito global sign-out). */
  private signOut(sub: string): Promise<void> {
    return this.cognitoCall(
      this.deps.cognito.send(new AdminUserGlobalSignOutCommand(this.user(sub))),
    );
  }

  private user(sub: string) {
    return { UserPoolId: this.deps.userPoolId, Username: sub };
  }

  /** A Cognito admin call for which a user already gone is as good as done. */
  private async cognitoCall(call: Promise<unknown>): Promise<void> {
    try {
      await call;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'UserNotFoundException')) throw error;
    }
  }
}
