import { describe, expect, it } from 'vitest';
import { TIERS } from '../../lambda/shared/fair-use/tiers.js';
import { pooledKeyPolicy } from '../../lambda/shared/tenancy/isolation.js';
import { type Decision, decideIam, type NamedPolicy } from '../../local/iam/template-policies.js';
import { canonicalPolicy, synthTemplate, templateResources } from '../support/app.js';
import { ACCOUNT, identityPoliciesOf, resolve } from '../support/iam.js';

/**
 * The pooled KMS key as deployed: its policy (from the one builder, pooledKeyPolicy), and what
 * IAM decides with it for a tenant's session, for the platform's own roles and for an account
 * administrator. Decided by the same evaluator the local KMS stand-in uses, with every context
 * key passed through (the validated runner drops `kms:EncryptionContext:<key>`, see
 * local/iam/template-policies.ts), so the encryption-context conditions are evaluated here.
 */
const template = synthTemplate();
const resources = templateResources(template);
const idOf = (type: string, pattern: RegExp) => {
  const ids = Object.keys(resources).filter(
    (id) => resources[id]?.Type === type && pattern.test(id),
  );
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const pooledKeyId = idOf('AWS::KMS::Key', /PooledKey/);
const pooledKey = resources[pooledKeyId];
const dataRole = idOf('AWS::IAM::Role', /DataAccessRole/);
const mcpRole = idOf('AWS::IAM::Role', /^McpApiMcpRole/);
const provisionerRole = idOf('AWS::IAM::Role', /^OnboardingProvisionerRole/);
const roleArn = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${id}`;
const POOLED_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-4000-8000-00000000beef`;
/** The key policy as the deployed stack has it. */
const deployedPolicy = resolve(template, pooledKey?.Properties.KeyPolicy) as {
  Statement: Array<Record<string, unknown>>;
};

const canonical = canonicalPolicy;

type KmsRequest = { action: string; context?: Record<string, string | string[]> };

/** IAM's decision on the pooled key for `principal` with `policies`, under `keyPolicy`. */
const onPooledKey = (
  principal: string,
  policies: readonly NamedPolicy[],
  { action, context = {} }: KmsRequest,
  keyPolicy: unknown = deployedPolicy,
): Promise<Decision> =>
  decideIam({
    principal,
    identityPolicies: policies,
    action,
    resource: POOLED_KEY_ARN,
    resourcePolicy: keyPolicy,
    account: ACCOUNT,
    context: { 'kms:CallerAccount': ACCOUNT, ...context },
    allContextKeys: true,
  });
const tenantContext = (tenantId: string) => ({
  'kms:EncryptionContext:tenantId': tenantId,
  'kms:EncryptionContextKeys': ['tenantId'],
});
/** A session of the data-access role, tagged `TenantId=<tag>` (or not tagged at all). */
const asSession = (tag: string | undefined, request: KmsRequest, keyPolicy?: unknown) =>
  onPooledKey(
    `arn:aws:sts::${ACCOUNT}:assumed-role/${dataRole}/tenant-${tag ?? 'untagged'}`,
    identityPoliciesOf(template, dataRole),
    {
      ...request,
      context: { ...(tag ? { 'aws:PrincipalTag/TenantId': tag } : {}), ...request.context },
    },
    keyPolicy,
  );
/** An account administrator: AdministratorAccess, and nothing of the key policy. */
const ADMINISTRATOR_ACCESS: NamedPolicy[] = [
  {
    name: 'AdministratorAccess',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  },
];
const asAdministrator = (request: KmsRequest, keyPolicy?: unknown) =>
  onPooledKey(roleArn('Administrator'), ADMINISTRATOR_ACCESS, request, keyPolicy);
const USE = ['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext'] as const;

describe('the pooled KMS key', () => {
  it("has exactly the one builder's policy (pooledKeyPolicy), as deployed", () => {
    const built = pooledKeyPolicy({
      dataAccessRoleArn: roleArn(dataRole),
      accountRootArn: `arn:aws:iam::${ACCOUNT}:root`,
    });

    expect(canonical(deployedPolicy)).toEqual(canonical(built));
  });

  it('rotates its key material and outlives the stack', () => {
    expect(pooledKey?.Properties.EnableKeyRotation).toBe(true);
    // The project's retain setting (lib/config.ts): kept on delete and on replacement; only a
    // failed first create removes it, when nothing can have been sealed under it yet.
    expect(pooledKey?.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(pooledKey?.UpdateReplacePolicy).toBe('Retain');
  });

  it('is the key the MCP function and the provisioner unwrap and make data keys with', () => {
    const envOf = (roleId: string) =>
      Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role).includes(roleId),
      )?.Properties.Environment as { Variables: Record<string, unknown> } | undefined;

    for (const role of [mcpRole, provisionerRole]) {
      expect(envOf(role)?.Variables.POOLED_KEY_ARN).toEqual({ 'Fn::GetAtt': [pooledKeyId, 'Arn'] });
    }
  });
});

describe('IAM evaluation of the pooled key: a session tagged for tenant acme', () => {
  it.each(USE)('may %s with its own tenant as encryption context', async (action) => {
    expect(await asSession('acme', { action, context: tenantContext('acme') })).toBe('Allowed');
  });

  it.each([
    ['another tenant', 'globex'],
    ['a tenant whose id it prefixes', 'acme-eu'],
    ['a prefix of its own id', 'acm'],
    ['an empty tenant', ''],
  ])('is denied every use with %s as encryption context', async (_, tenantId) => {
    for (const action of USE) {
      expect(await asSession('acme', { action, context: tenantContext(tenantId) })).not.toBe(
        'Allowed',
      );
    }
  });

  it('is denied every use without an encryption context, or with the tenant under another key', async () => {
    for (const action of USE) {
      expect(await asSession('acme', { action })).not.toBe('Allowed');
      expect(
        await asSession('acme', {
          action,
          context: {
            'kms:EncryptionContext:tenant': 'acme',
            'kms:EncryptionContextKeys': ['tenant'],
          },
        }),
      ).not.toBe('Allowed');
    }
  });

  it('is denied every use in a session with no tenant tag', async () => {
    for (const action of USE) {
      expect(await asSession(undefined, { action, context: tenantContext('acme') })).not.toBe(
        'Allowed',
      );
    }
  });

  it('may do nothing else with the key, not even with its own context', async () => {
    for (const action of [
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
      'kms:CreateGrant',
      'kms:PutKeyPolicy',
      'kms:DisableKey',
      'kms:ScheduleKeyDeletion',
    ]) {
      expect(await asSession('acme', { action, context: tenantContext('acme') })).not.toBe(
        'Allowed',
      );
    }
  });

  it("is refused another tenant's Decrypt by its role's Deny too, whatever a key policy says", async () => {
    // A key policy that would let the role do anything: only the role's own Deny is left.
    const permissive = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: roleArn(dataRole) }, Action: 'kms:*', Resource: '*' },
      ],
    };
    expect(
      await asSession(
        'acme',
        { action: 'kms:Decrypt', context: tenantContext('acme') },
        permissive,
      ),
    ).toBe('Allowed');
    expect(
      await asSession(
        'acme',
        { action: 'kms:Decrypt', context: tenantContext('globex') },
        permissive,
      ),
    ).toBe('ExplicitlyDenied');
    // The role's Deny (policy.ts NoOtherTenantsEncryptionContext) covers kms:GenerateDataKey*,
    // so making a data key in another tenant's name is refused by it too, whatever a key policy
    // says.
    expect(
      await asSession(
        'acme',
        { action: 'kms:GenerateDataKeyWithoutPlaintext', context: tenantContext('globex') },
        permissive,
      ),
    ).toBe('ExplicitlyDenied');
  });
});

describe('IAM evaluation of the pooled key: the platform and the account administer, never use', () => {
  it.each([
    ['the MCP function’s own role', mcpRole],
    ['the provisioner’s own role', provisionerRole],
  ])('denies %s every use, with any context or none', async (_, roleId) => {
    for (const action of USE) {
      for (const context of [tenantContext('acme'), {}]) {
        expect(
          await onPooledKey(roleArn(roleId), identityPoliciesOf(template, roleId), {
            action,
            context,
          }),
        ).not.toBe('Allowed');
      }
    }
  });

  it('lets an account administrator administer the key but not use it', async () => {
    for (const action of ['kms:DescribeKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion']) {
      expect(await asAdministrator({ action })).toBe('Allowed');
    }
    for (const action of [...USE, 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:CreateGrant']) {
      for (const context of [tenantContext('acme'), {}]) {
        expect(await asAdministrator({ action, context })).not.toBe('Allowed');
      }
    }
    // The control: had the account statement allowed every KMS action (the CDK default), IAM's
    // AdministratorAccess would open every tenant's data key.
    const accountMayUse = structuredClone(deployedPolicy);
    const account = accountMayUse.Statement.find((s) => s.Sid === 'AccountAdministers');
    if (account) account.Action = 'kms:*';
    expect(
      await asAdministrator(
        { action: 'kms:Decrypt', context: tenantContext('acme') },
        accountMayUse,
      ),
    ).toBe('Allowed');
  });
});

describe('usage plans at deploy time', () => {
  const plans = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::ApiGateway::UsagePlan',
  );
  const planOf = (tier: string) => {
    const matching = plans.filter(([id]) => new RegExp(`UsagePlan${tier}[0-9A-F]{8}$`).test(id));
    expect(matching).toHaveLength(1);
    return matching[0] as (typeof plans)[number];
  };
  const keysOf = (planId: string) =>
    Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::ApiGateway::UsagePlanKey' &&
        JSON.stringify(r.Properties.UsagePlanId) === JSON.stringify({ Ref: planId }),
    );

  it.each(Object.values(TIERS).filter((tier) => tier.resources === 'pooled'))(
    "gives the pooled tier $name the pool's limits and exactly one shared API key",
    (tier) => {
      const [planId, plan] = planOf(tier.name);
      const keys = keysOf(planId);

      expect(tier.pool).toBeDefined();
      expect(plan.Properties.Throttle).toEqual({
        RateLimit: tier.pool?.throttle.rateLimit,
        BurstLimit: tier.pool?.throttle.burstLimit,
      });
      // No quota for the whole tier: one tenant's flood must not use up the tier's day.
      expect(plan.Properties.Quota).toBeUndefined();
      expect(keys).toHaveLength(1);
      const keyId = (keys[0]?.Properties.KeyId as { Ref?: string } | undefined)?.Ref ?? '';
      expect(resources[keyId]).toMatchObject({
        Type: 'AWS::ApiGateway::ApiKey',
        Properties: { Enabled: true },
      });
    },
  );

  it.each(Object.values(TIERS).filter((tier) => tier.resources === 'dedicated'))(
    'gives the dedicated tier $name its per-tenant limits and no API key at deploy time',
    (tier) => {
      const [planId, plan] = planOf(tier.name);

      expect(plan.Properties.Throttle).toEqual({
        RateLimit: tier.throttle.rateLimit,
        BurstLimit: tier.throttle.burstLimit,
      });
      expect(plan.Properties.Quota).toEqual({ Limit: tier.quota.limit, Period: tier.quota.period });
      expect(keysOf(planId)).toEqual([]);
    },
  );

  it('has no API key but the pooled tiers’ shared ones', () => {
    const pooledTiers = Object.values(TIERS).filter((tier) => tier.resources === 'pooled');
    const apiKeys = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::ApiKey');

    expect(apiKeys).toHaveLength(pooledTiers.length);
  });
});
