import { CreateKeyCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import { tenantKeyPolicy } from '../../lambda/shared/tenancy/isolation.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { uniqueTenantId } from '../support/registry.js';

/**
 * The local KMS is as strict as KMS: a key is used only as its own key policy allows, together
 * with the session role's policies as CDK deploys them (not a rule written for the stand-in).
 */
describe('KMS stand-in: key policies decide, as on KMS', () => {
  const operator = new KMSClient({});
  const sessions = new TenantCredentials(new STSClient({}), {
    roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
  });
  const asTenant = (tenantId: string) =>
    new KMSClient({ credentials: () => sessions.forTenant(tenantId) });
  const keyWith = async (policy: string, tenantId: string) =>
    (
      await operator.send(
        new CreateKeyCommand({
          Policy: policy,
          Tags: [{ TagKey: 'TenantId', TagValue: tenantId }],
        }),
      )
    ).KeyMetadata?.Arn as string;
  const generate = (tenantId: string, keyId: string, contextTenant = tenantId) =>
    asTenant(tenantId).send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: 'AES_256',
        EncryptionContext: { tenantId: contextTenant },
      }),
    );
  const policyFor = (tenantId: string, dataAccessRoleArn = LOCAL_DATA_ACCESS_ROLE_ARN) =>
    tenantKeyPolicy({
      tenantId,
      dataAccessRoleArn,
      provisionerRoleArn: 'arn:aws:iam::000000000000:role/local-provisioner',
    });

  it("lets a tenant's session use its own key with its own encryption context", async () => {
    const tenant = uniqueTenantId('kms-own');
    const key = await keyWith(policyFor(tenant), tenant);

    await expect(generate(tenant, key)).resolves.toMatchObject({ KeyId: key });
  });

  it("refuses another tenant's encryption context on the tenant's own key", async () => {
    const tenant = uniqueTenantId('kms-ctx');
    const key = await keyWith(policyFor(tenant), tenant);

    await expect(generate(tenant, key, 'someone-else')).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('refuses a key whose key policy does not name the data-access role, whatever its tags say', async () => {
    const tenant = uniqueTenantId('kms-policy');
    const key = await keyWith(
      policyFor(tenant, 'arn:aws:iam::000000000000:role/some-other-role'),
      tenant,
    );

    await expect(generate(tenant, key)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it("refuses another tenant's session on the key, even with the key's tenant as context", async () => {
    const tenant = uniqueTenantId('kms-victim');
    const key = await keyWith(policyFor(tenant), tenant);

    await expect(generate(uniqueTenantId('kms-attacker'), key, tenant)).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});
