import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { TierName } from '../lambda/shared/fair-use/tiers.js';
import { ProvisioningQueue } from '../lambda/shared/lifecycle/provisioning-queue.js';
import type { TenantRegistry } from '../lambda/shared/registry/registry.js';
import type { Role, TenantId, TenantStatus } from '../lambda/shared/tenancy/tenant.js';

/**
 * Demo and test tenants, made the way the product makes them: a Cognito user, a tenant in
 * PROVISIONING with that user as admin, the real provisioner (through the queue) giving it its
 * key and API key, and then ACTIVE. Needs the harness environment (endpoints, table names,
 * USER_POOL_ID, PROVISIONING_QUEUE_URL).
 */
export async function createUser(email: string): Promise<string> {
  const cognito = new CognitoIdentityProviderClient({});
  const { User } = await cognito.send(
    new AdminCreateUserCommand({
      UserPoolId: process.env.USER_POOL_ID,
      Username: email,
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
      ],
      MessageAction: 'SUPPRESS',
    }),
  );
  const sub = User?.Attributes?.find((a) => a.Name === 'sub')?.Value;
  if (!sub) throw new Error('the user pool returned no sub');
  return sub;
}

export async function seedTenant(
  registry: TenantRegistry,
  tenant: { tenantId: TenantId; name: string; tier: TierName; adminEmail: string },
): Promise<{ tenantId: TenantId; sub: string }> {
  const sub = await createUser(tenant.adminEmail);
  await registry.createTenant({ ...tenant, status: 'PROVISIONING', ownerSub: sub });
  await registry.createMembership({
    userSub: sub,
    tenantId: tenant.tenantId,
    role: 'admin',
    email: tenant.adminEmail,
  });
  await new ProvisioningQueue(
    new SQSClient({}),
    process.env.PROVISIONING_QUEUE_URL as string,
  ).request(tenant.tenantId);
  await waitForStatus(registry, tenant.tenantId, 'ACTIVE');
  return { tenantId: tenant.tenantId, sub };
}

export async function addMember(
  registry: TenantRegistry,
  tenantId: TenantId,
  email: string,
  role: Role,
): Promise<string> {
  const sub = await createUser(email);
  await registry.createMembership({ userSub: sub, tenantId, role, email });
  return sub;
}

/** Waits until the tenant reaches `status` (the provisioner runs asynchronously). */
export async function waitForStatus(
  registry: TenantRegistry,
  tenantId: TenantId,
  status: TenantStatus,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tenant = await registry.getTenant(tenantId);
    if (tenant?.status === status) return;
    if (Date.now() > deadline) {
      throw new Error(
        `tenant ${tenantId} is ${tenant?.status ?? 'missing'}, not ${status}, after ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
