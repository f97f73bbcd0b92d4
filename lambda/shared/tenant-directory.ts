import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import * as z from 'zod';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import type { MembershipRecord, TenantRecord, TenantRegistry } from './registry.js';
import { type Role, RoleSchema, type TenantId, TenantIdSchema } from './tenant.js';

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
}

const EmailSchema = z.email().max(254);
const CANNOT_INVITE = 'This person cannot be invited.';

/** What a tenant admin may do for their own tenant, with the tenant fixed. */
export interface OwnTenant {
  info(): Promise<TenantRecord>;
  members(): Promise<MembershipRecord[]>;
  invite(email: string, role: Role): Promise<MembershipRecord>;
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
   * Invites a person into the tenant: a new Cognito user (Cognito e-mails a temporary
   * password) and a membership with the role. Inviting a member again changes nothing; an
   * e-mail that already has an account cannot be invited (its owner signs in or signs up on
   * their own), and the answer names no tenant.
   */
  async invite(tenantId: string, email: string, role: string): Promise<MembershipRecord> {
    const tenant = await this.tenant(tenantId);
    if (tenant.status !== 'ACTIVE') throw new ConflictError('The organisation is not active.');
    const address = EmailSchema.safeParse(email.trim().toLowerCase());
    if (!address.success) throw new ValidationError('Invalid e-mail address.');
    const parsedRole = RoleSchema.safeParse(role);
    if (!parsedRole.success) throw new ValidationError('Role must be admin or member.');

    const { sub, created } = await this.cognitoUser(address.data);
    const memberships = this.deps.memberships ?? this.deps.registry;
    const existing = await memberships.getMembership(sub);
    if (existing?.tenantId === tenant.tenantId) return existing;
    // Only a user this invitation created joins the tenant. An existing account, whether it
    // belongs elsewhere or is someone's unfinished sign-up, is never pulled in; the answer
    // does not say which.
    if (existing || !created) throw new ConflictError(CANNOT_INVITE);
    return memberships.createMembership({
      userSub: sub,
      tenantId: tenant.tenantId,
      role: parsedRole.data,
      email: address.data,
    });
  }

  /** The Cognito user for an e-mail address, created (and e-mailed) if there is none. */
  private async cognitoUser(email: string): Promise<{ sub: string; created: boolean }> {
    const subOf = (attributes?: Array<{ Name?: string; Value?: string }>) =>
      attributes?.find((a) => a.Name === 'sub')?.Value;
    try {
      const { User } = await this.deps.cognito.send(
        new AdminCreateUserCommand({
          UserPoolId: this.deps.userPoolId,
          Username: email,
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
          ],
          DesiredDeliveryMediums: ['EMAIL'],
        }),
      );
      const sub = subOf(User?.Attributes);
      if (!sub) throw new Error('Cognito returned no sub');
      return { sub, created: true };
    } catch (error) {
      if (!(error instanceof Error && error.name === 'UsernameExistsException')) throw error;
      const user = await this.deps.cognito.send(
        new AdminGetUserCommand({ UserPoolId: this.deps.userPoolId, Username: email }),
      );
      const sub = subOf(user.UserAttributes);
      if (!sub) throw new Error('Cognito returned no sub');
      return { sub, created: false };
    }
  }
}
