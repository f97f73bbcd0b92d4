import { describe, expect, it } from 'vitest';
import { tenantKeyPolicy } from '../../lambda/shared/tenancy/isolation.js';
import { dataAccessPolicy } from '../../lambda/shared/tenancy/policy.js';
import { canonicalPolicy, synthTemplate } from '../support/app.js';
import { ACCOUNT, decide, identityPoliciesOf, REGION, resolve } from '../support/iam.js';

/**
 * The deployed policies, evaluated by a real IAM policy evaluator (@cloud-copilot/iam-simulate)
 * rather than read by eye: the data-access role's statements from the synthesized template,
 * the tenant key policy the provisioner sets, and requests as a session tagged for tenant A
 * makes them against A's and B's resources.
 */
const template = synthTemplate();
const idOf = (type: string, pattern: RegExp) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const dataRole = idOf('AWS::IAM::Role', /DataAccessRole/);
const mcpRole = idOf('AWS::IAM::Role', /^McpApiMcpRole/);
const provisionerRole = idOf('AWS::IAM::Role', /^OnboardingProvisionerRole/);
const roleArn = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${id}`;
const tableArn = (pattern: RegExp) =>
  `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${idOf('AWS::DynamoDB::GlobalTable', pattern)}`;
const dataTable = tableArn(/^TenantData[0-9A-F]{8}$/);
const registryTable = tableArn(/^TenantDataRegistry/);
const auditTable = tableArn(/^AuditTrailTable/);
const keyArn = (n: number) =>
  `arn:aws:kms:${REGION}:${ACCOUNT}:key/0000000${n}-0000-4000-8000-000000000000`;
const secretArn = (tenant: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:mcp-tenants/${tenant}/webhook-AbCdEf`;
const keyPolicy = (tenantId: string) =>
  JSON.parse(
    tenantKeyPolicy({
      tenantId,
      dataAccessRoleArn: roleArn(dataRole),
      provisionerRoleArn: roleArn(provisionerRole),
    }),
  );

type Request = Omit<Parameters<typeof decide>[0], 'principal' | 'identityPolicies'>;

/** A request from the data-access role's session tagged TenantId=acme. */
const asAcme = (request: Request) =>
  decide({
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${dataRole}/tenant-acme`,
    identityPolicies: identityPoliciesOf(template, dataRole),
    ...request,
    context: { 'aws:PrincipalTag/TenantId': 'acme', ...request.context },
  });
/** A request from the MCP function's own role, without any tenant session. */
const asMcpRole = (request: Request) =>
  decide({
    principal: roleArn(mcpRole),
    identityPolicies: identityPoliciesOf(template, mcpRole),
    ...request,
  });

describe('IAM policy evaluation: a session tagged for tenant acme', () => {
  it("is exactly the one builder's statements (lambda/shared/tenancy/policy.ts), as deployed", () => {
    const canonical = canonicalPolicy;
    const deployed = identityPoliciesOf(template, dataRole).flatMap(
      ({ policy }) => (policy as { Statement: unknown[] }).Statement,
    );
    const built = dataAccessPolicy({
      dataTableArn: dataTable,
      registryTableArn: registryTable,
      auditTableArn: auditTable,
      secretArnPrefix: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:`,
    });
    expect(canonical(deployed)).toEqual(canonical(built));
  });

  it.each([
    ['GetItem', ['acme'], 'Allowed'],
    ['PutItem', ['acme'], 'Allowed'],
    ['Query', ['acme'], 'Allowed'],
    ['GetItem', ['globex'], 'ImplicitlyDenied'],
    ['PutItem', ['globex'], 'ImplicitlyDenied'],
    ['GetItem', ['acme-eu'], 'ImplicitlyDenied'],
    ['Query', ['acme', 'globex'], 'ImplicitlyDenied'],
    ['BatchGetItem', ['acme', 'globex'], 'ImplicitlyDenied'],
  ])('data table: %s with leading keys %j is %s', async (action, leadingKeys, expected) => {
    expect(
      await asAcme({
        action: `dynamodb:${action}`,
        resource: dataTable,
        context: { 'dynamodb:LeadingKeys': leadingKeys },
      }),
    ).toBe(expected);
  });

  it('is denied a Scan, and any item request that names no leading key', async () => {
    expect(await asAcme({ action: 'dynamodb:Scan', resource: dataTable })).toBe('ImplicitlyDenied');
    expect(await asAcme({ action: 'dynamodb:GetItem', resource: dataTable })).toBe(
      'ImplicitlyDenied',
    );
    expect(await asAcme({ action: 'dynamodb:Query', resource: `${dataTable}/index/any` })).toBe(
      'ImplicitlyDenied',
    );
  });

  it("reads only its own tenant record in the registry, never another's", async () => {
    const get = (key: string) =>
      asAcme({
        action: 'dynamodb:GetItem',
        resource: registryTable,
        context: { 'dynamodb:LeadingKeys': [key] },
      });
    expect(await get('TENANT#acme')).toBe('Allowed');
    expect(await get('TENANT#globex')).toBe('ImplicitlyDenied');
    expect(await get('TENANT#acme-eu')).toBe('ImplicitlyDenied');
    expect(await get('USER#someone')).toBe('ImplicitlyDenied');
  });

  it.each([
    ['GetItem', 'INVITES#acme', 'Allowed'],
    ['PutItem', 'INVITES#acme', 'Allowed'],
    ['UpdateItem', 'INVITES#acme', 'Allowed'],
    ['Query', 'INVITES#acme', 'Allowed'],
    ['GetItem', 'INVITES#globex', 'ImplicitlyDenied'],
    ['PutItem', 'INVITES#globex', 'ImplicitlyDenied'],
    ['UpdateItem', 'INVITES#globex', 'ImplicitlyDenied'],
    ['Query', 'INVITES#globex', 'ImplicitlyDenied'],
    ['Query', 'INVITES#acme-eu', 'ImplicitlyDenied'],
    ['PutItem', 'TENANT#acme', 'ImplicitlyDenied'],
    ['DeleteItem', 'INVITES#acme', 'ImplicitlyDenied'],
  ])('invitations in the registry: %s on %s is %s', async (action, key, expected) => {
    expect(
      await asAcme({
        action: `dynamodb:${action}`,
        resource: registryTable,
        context: { 'dynamodb:LeadingKeys': [key] },
      }),
    ).toBe(expected);
  });

  // iam-simulate 0.1.173 drops `kms:EncryptionContext:<key>` from a request (it matches
  // variable condition keys only after a '/'), so it cannot evaluate the encryption-context
  // half of the key policy and of the role's Deny. That half is proven against the KMS
  // stand-in (encryption.test.ts) and statement by statement (tenant-isolation.test.ts); here,
  // the principal-tag half: globex's key refuses acme's session whatever it asks.
  it("is denied globex's key, for every use, by the principal-tag condition", async () => {
    // The control: with only the encryption-context condition taken out, acme's key admits
    // acme's session and globex's key still refuses it.
    const tagOnly = (owner: string) => {
      const policy = keyPolicy(owner);
      for (const statement of policy.Statement) {
        delete statement.Condition?.StringEquals?.['kms:EncryptionContext:tenantId'];
      }
      return policy;
    };
    const decrypt = (key: number, policy: unknown) =>
      asAcme({ action: 'kms:Decrypt', resource: keyArn(key), resourcePolicy: policy });
    expect(await decrypt(1, tagOnly('acme'))).toBe('Allowed');
    expect(await decrypt(2, tagOnly('globex'))).toBe('ImplicitlyDenied');

    for (const action of [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:ReEncryptFrom',
    ]) {
      expect(
        await asAcme({
          action,
          resource: keyArn(2),
          resourcePolicy: keyPolicy('globex'),
          context: { 'kms:EncryptionContext:tenantId': 'acme' },
        }),
      ).not.toBe('Allowed');
    }
  });

  it("reads only secrets under its own path and tagged with it, never globex's", async () => {
    const read = (tenantPath: string, tag: string) =>
      asAcme({
        action: 'secretsmanager:GetSecretValue',
        resource: secretArn(tenantPath),
        context: { 'aws:ResourceTag/TenantId': tag },
      });
    expect(await read('acme', 'acme')).toBe('Allowed');
    expect(await read('globex', 'globex')).toBe('ImplicitlyDenied');
    expect(await read('acme', 'globex')).toBe('ImplicitlyDenied');
    expect(await read('acme-eu', 'acme-eu')).toBe('ImplicitlyDenied');
  });
});

describe("IAM policy evaluation: the MCP function's own role, without a tenant session", () => {
  it('is denied every tenant item, key and secret', async () => {
    for (const action of ['GetItem', 'PutItem', 'Query', 'Scan', 'DeleteItem']) {
      expect(
        await asMcpRole({
          action: `dynamodb:${action}`,
          resource: dataTable,
          context: { 'dynamodb:LeadingKeys': ['acme'] },
        }),
      ).toBe('ImplicitlyDenied');
    }
    for (const owner of ['acme', 'globex']) {
      expect(
        await asMcpRole({
          action: 'kms:Decrypt',
          resource: keyArn(1),
          resourcePolicy: keyPolicy(owner),
          context: { 'kms:EncryptionContext:tenantId': owner },
        }),
      ).not.toBe('Allowed');
      expect(
        await asMcpRole({
          action: 'secretsmanager:GetSecretValue',
          resource: secretArn(owner),
          context: { 'aws:ResourceTag/TenantId': owner },
        }),
      ).not.toBe('Allowed');
    }
  });

  it('may assume the data-access role only by tagging the session with exactly one TenantId', async () => {
    const trust = (
      template.toJSON().Resources[dataRole] as { Properties: { AssumeRolePolicyDocument: unknown } }
    ).Properties.AssumeRolePolicyDocument;
    const assume = (context: Record<string, string | string[]>) =>
      decide({
        principal: roleArn(mcpRole),
        identityPolicies: identityPoliciesOf(template, mcpRole),
        action: 'sts:TagSession',
        resource: roleArn(dataRole),
        resourcePolicy: resolveTrust(trust),
        context,
      });
    expect(await assume({ 'aws:RequestTag/TenantId': 'acme', 'aws:TagKeys': ['TenantId'] })).toBe(
      'Allowed',
    );
    expect(await assume({ 'aws:TagKeys': [] })).not.toBe('Allowed');
    expect(
      await assume({ 'aws:RequestTag/TenantId': 'acme', 'aws:TagKeys': ['TenantId', 'Role'] }),
    ).not.toBe('Allowed');
  });
});

function resolveTrust(trust: unknown) {
  return JSON.parse(
    JSON.stringify(trust).replace(
      /\{"Fn::GetAtt":\["([^"]+)","Arn"\]\}/g,
      (_, id) => `"${roleArn(id)}"`,
    ),
  );
}

describe('IAM policy evaluation: the audit trail is append-only for every role of the application', () => {
  const auditTableId = idOf('AWS::DynamoDB::GlobalTable', /^AuditTrailTable/);
  const replicas = template.toJSON().Resources[auditTableId].Properties.Replicas as Array<{
    ResourcePolicy: { PolicyDocument: unknown };
  }>;
  const resourcePolicy = resolve(template, replicas[0]?.ResourcePolicy.PolicyDocument);
  const roles = Object.keys(template.findResources('AWS::IAM::Role'));
  const auditWriter = idOf('AWS::IAM::Role', /^AuditTrailFunctionRole/);
  const asRole = (roleId: string, action: string, leadingKey = 'acme') =>
    decide({
      principal:
        roleId === dataRole
          ? `arn:aws:sts::${ACCOUNT}:assumed-role/${dataRole}/tenant-acme`
          : roleArn(roleId),
      identityPolicies: identityPoliciesOf(template, roleId),
      action: `dynamodb:${action}`,
      resource: auditTable,
      resourcePolicy,
      context: {
        'dynamodb:LeadingKeys': [leadingKey],
        // What IAM sets for a role and for a session of it alike: the role's ARN.
        'aws:PrincipalArn': roleArn(roleId),
        ...(roleId === dataRole ? { 'aws:PrincipalTag/TenantId': 'acme' } : {}),
      },
    });

  it('denies every role, the platform own included, any change or deletion of a record', async () => {
    expect(roles.length).toBeGreaterThan(10);
    for (const roleId of roles) {
      for (const action of [
        'UpdateItem',
        'DeleteItem',
        'BatchWriteItem',
        'PartiQLUpdate',
        'PartiQLDelete',
        'PartiQLInsert',
      ]) {
        expect(`${roleId} ${action}: ${await asRole(roleId, action)}`).toBe(
          `${roleId} ${action}: ExplicitlyDenied`,
        );
      }
    }
  });

  it('lets only the audit function put records, and no role read them but the tenant session', async () => {
    const putters: string[] = [];
    const readers: string[] = [];
    for (const roleId of roles) {
      if ((await asRole(roleId, 'PutItem')) === 'Allowed') putters.push(roleId);
      if ((await asRole(roleId, 'Query')) === 'Allowed') readers.push(roleId);
    }
    expect(putters).toEqual([auditWriter]);
    expect(readers).toEqual([dataRole]);
  });

  it('denies an administrator of the account any put, change or deletion of a record', async () => {
    const administrator = [
      {
        name: 'AdministratorAccess',
        policy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        },
      },
    ];
    for (const action of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
      expect(
        await decide({
          principal: `arn:aws:iam::${ACCOUNT}:role/Administrator`,
          identityPolicies: administrator,
          action: `dynamodb:${action}`,
          resource: auditTable,
          resourcePolicy,
          context: {
            'dynamodb:LeadingKeys': ['acme'],
            'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/Administrator`,
          },
        }),
      ).toBe('ExplicitlyDenied');
    }
  });

  it("lets a session tagged acme query acme's trail only, never globex's or acme-eu's", async () => {
    expect(await asRole(dataRole, 'Query', 'acme')).toBe('Allowed');
    expect(await asRole(dataRole, 'Query', 'globex')).toBe('ImplicitlyDenied');
    expect(await asRole(dataRole, 'Query', 'acme-eu')).toBe('ImplicitlyDenied');
    expect(await asRole(dataRole, 'GetItem', 'acme')).toBe('ImplicitlyDenied');
    expect(await asRole(dataRole, 'Scan', 'acme')).toBe('ImplicitlyDenied');
  });
});
