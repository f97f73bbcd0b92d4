import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../lambda/pre-token-generation/index.js';
import { addTenantClaims, REFUSALS } from '../../lambda/pre-token-generation/tenant-claims.js';
import { ProvisioningQueue } from '../../lambda/shared/lifecycle/provisioning-queue.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { logger } from '../../lambda/shared/platform/observability.js';
import { TenantRegistry } from '../../lambda/shared/registry/registry.js';
import type { TenantStatus } from '../../lambda/shared/tenancy/tenant.js';
import { lambdaContext, preTokenV2Event } from '../support/events.js';
import { freePort } from '../support/ports.js';
import { testPseudonyms } from '../support/pseudonyms.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';

const registry = localRegistry();
const invoke = (event: PreTokenGenerationV2TriggerEvent) =>
  handler(event, lambdaContext('pre-token-generation'));

/** A tenant in the given state with one member; returns the member's sub. */
async function memberOf(tenantId: string, status: TenantStatus, role: 'admin' | 'member') {
  await registry.createTenant({ tenantId, name: tenantId, tier: 'standard', status });
  const sub = randomUUID();
  await registry.createMembership({ userSub: sub, tenantId, role });
  return sub;
}

describe('pre-token generation (V2)', () => {
  let acme: string;
  let globex: string;
  let acmeAdmin: string;
  beforeAll(async () => {
    acme = uniqueTenantId('acme');
    globex = uniqueTenantId('globex');
    acmeAdmin = await memberOf(acme, 'ACTIVE', 'admin');
    await memberOf(globex, 'ACTIVE', 'member');
  });

  it('adds the tenant, tier and role to both the access and the ID token', async () => {
    const result = await invoke(preTokenV2Event({ sub: acmeAdmin }));

    const expected = {
      'custom:tenantId': acme,
      'custom:tenantTier': 'standard',
      'custom:role': 'admin',
    };
    const details = result.response.claimsAndScopeOverrideDetails;
    expect(details.accessTokenGeneration?.claimsToAddOrOverride).toEqual(expected);
    expect(details.idTokenGeneration?.claimsToAddOrOverride).toEqual(expected);
  });

  it('ignores a tenant id the user put into their own attributes', async () => {
    const event = preTokenV2Event({
      sub: acmeAdmin,
      attributes: { 'custom:tenantId': globex, 'custom:role': 'admin' },
    });

    const result = await invoke(event);

    const claims = result.response.claimsAndScopeOverrideDetails.accessTokenGeneration;
    expect(claims?.claimsToAddOrOverride?.['custom:tenantId']).toBe(acme);
  });

  it('refuses a token to a member of a suspended tenant without naming the tenant', async () => {
    const suspended = uniqueTenantId('initech');
    const sub = await memberOf(suspended, 'SUSPENDED', 'admin');

    const message = await invoke(preTokenV2Event({ sub })).catch((e: Error) => e.message);

    expect(message).toBe(REFUSALS.inactive);
  });

  it('refuses a token when the membership names a tenant that does not exist', async () => {
    const sub = randomUUID();
    await registry.createMembership({
      userSub: sub,
      tenantId: uniqueTenantId('gone'),
      role: 'admin',
    });

    await expect(invoke(preTokenV2Event({ sub }))).rejects.toThrow(REFUSALS.inactive);
  });

  it('answers generically when the membership record is malformed', async () => {
    const sub = randomUUID();
    await createDocumentClient().send(
      new PutCommand({
        TableName: process.env.REGISTRY_TABLE_NAME,
        Item: {
          pk: `USER#${sub}`,
          sk: 'MEMBERSHIP',
          userSub: sub,
          tenantId: globex,
          role: 'owner',
        },
      }),
    );

    const message = await invoke(preTokenV2Event({ sub })).catch((e: Error) => e.message);

    expect(message).toBe(REFUSALS.unavailable);
  });

  it('refuses a token to a member of a deleted tenant', async () => {
    const sub = await memberOf(uniqueTenantId('hooli'), 'DELETED', 'member');

    await expect(invoke(preTokenV2Event({ sub }))).rejects.toThrow(REFUSALS.inactive);
  });

  it('waits for a tenant being provisioned and signs its first member in once it is active', async () => {
    const tenantId = uniqueTenantId('newco');
    const sub = await memberOf(tenantId, 'PROVISIONING', 'admin');
    // The provisioner finishes while the trigger waits (as right after a sign-up).
    setTimeout(() => {
      void registry.transitionTenant(tenantId, { from: ['PROVISIONING'], to: 'ACTIVE' });
    }, 600);

    const result = await invoke(preTokenV2Event({ sub }));

    expect(
      result.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToAddOrOverride,
    ).toMatchObject({ 'custom:tenantId': tenantId });
  });

  it('asks a member to try again shortly when provisioning outlasts the trigger budget, within it', async () => {
    const sub = await memberOf(uniqueTenantId('slowco'), 'PROVISIONING', 'admin');
    const context = lambdaContext('pre-token-generation', 5_000);
    const started = Date.now();

    await expect(handler(preTokenV2Event({ sub }), context)).rejects.toThrow(REFUSALS.provisioning);
    // Cognito waits 5 s for the trigger: the answer comes with time to spare.
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(500);
  });

  it("heals a confirmed sign-up whose post-confirmation failed: the first sign-in creates the person's tenant", async () => {
    const sub = randomUUID();
    const email = `founder@${uniqueTenantId('healed')}.example`;

    const result = await invoke(
      preTokenV2Event({ sub, email, attributes: { 'custom:organization': 'Healed Org' } }),
    );

    const membership = await registry.getMembership(sub);
    expect(membership).toMatchObject({ role: 'admin' });
    const tenant = await registry.getTenant(membership?.tenantId as string);
    expect(tenant).toMatchObject({ name: 'Healed Org', ownerSub: sub, status: 'ACTIVE' });
    expect(
      result.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToAddOrOverride,
    ).toMatchObject({ 'custom:tenantId': membership?.tenantId, 'custom:role': 'admin' });
  });

  it.each([
    ['a token refresh', { triggerSource: 'TokenGeneration_RefreshTokens' as const }, {}],
    ['an unverified address', {}, { email_verified: 'false' }],
  ])('creates no tenant on %s for a user who belongs to none', async (_, event, attributes) => {
    const sub = randomUUID();

    await expect(invoke({ ...preTokenV2Event({ sub, attributes }), ...event })).rejects.toThrow(
      REFUSALS.noTenant,
    );
    expect(await registry.getMembership(sub)).toBeUndefined();
  });

  it.each([
    [
      'no sub',
      (e: PreTokenGenerationV2TriggerEvent) =>
        delete (e.request.userAttributes as Partial<Record<string, string>>).sub,
    ],
    [
      'an empty userName',
      (e: PreTokenGenerationV2TriggerEvent) => {
        e.userName = '';
      },
    ],
    [
      'no userName',
      (e: PreTokenGenerationV2TriggerEvent) =>
        delete (e as Partial<PreTokenGenerationV2TriggerEvent>).userName,
    ],
    [
      'a V1 event',
      (e: PreTokenGenerationV2TriggerEvent) => {
        e.version = '1';
      },
    ],
  ])('refuses an event with %s instead of defaulting to a tenant', async (_, mutate) => {
    const event = preTokenV2Event({ sub: acmeAdmin });
    mutate(event);

    await expect(invoke(event)).rejects.toThrow(REFUSALS.malformed);
  });

  it('answers with a generic message when the registry is unreachable', async () => {
    const port = await freePort();
    const unreachable = new TenantRegistry(
      DynamoDBDocumentClient.from(
        new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }),
      ),
      'tenant-registry',
    );

    const refusal = addTenantClaims(preTokenV2Event({ sub: acmeAdmin }), {
      registry: unreachable,
      queue: new ProvisioningQueue(new SQSClient({}), 'http://127.0.0.1:9/queue'),
      logger,
      pseudonyms: testPseudonyms,
      remainingMs: () => 5_000,
    });

    await expect(refusal).rejects.toThrow(REFUSALS.unavailable);
    const message = await refusal.catch((error: Error) => error.message);
    expect(message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|tenant-registry/);
    expect(message).not.toContain(acme);
    expect(message).not.toContain(globex);
  });
});
