import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TENANT_DATA_ACTIONS } from '../../lambda/shared/tenancy/isolation.js';
import { actionsOf, policyStatements, pseudonymKeyRead, synthTemplate } from '../support/app.js';

const template = synthTemplate();
const logicalId = (type: string, pattern: RegExp) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const dataAccessRole = logicalId('AWS::IAM::Role', /DataAccessRole/);
const mcpRole = logicalId('AWS::IAM::Role', /^McpApiMcpRole/);
const provisionerRole = logicalId('AWS::IAM::Role', /^OnboardingProvisionerRole/);
const dataTable = logicalId('AWS::DynamoDB::GlobalTable', /^TenantData[0-9A-F]{8}$/);
const statementsOf = (roleId: string) =>
  policyStatements(template).filter((s) => s.roles.includes(roleId));

describe('tenant isolation policies', () => {
  it('lets only the MCP role and the provisioner assume the data-access role, only with a TenantId tag and no other', () => {
    const role = template.findResources('AWS::IAM::Role')[dataAccessRole];

    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: {
          AWS: [{ 'Fn::GetAtt': [mcpRole, 'Arn'] }, { 'Fn::GetAtt': [provisionerRole, 'Arn'] }],
        },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringLike: { 'aws:RequestTag/TenantId': '?*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['TenantId'] },
        },
      },
    ]);
  });

  it("allows item actions on the data table only where every partition key is the caller's tag", () => {
    const statements = statementsOf(dataAccessRole).filter((s) =>
      JSON.stringify(s.Resource).includes(dataTable),
    );

    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: [...TENANT_DATA_ACTIONS].sort(),
        Resource: { 'Fn::GetAtt': [dataTable, 'Arn'] },
        Condition: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['${aws:PrincipalTag/TenantId}'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    ]);
  });

  it("lets a session read its own tenant's record and member list, and keep its own invitations and agents, in the registry, nothing else", () => {
    const registry = logicalId('AWS::DynamoDB::GlobalTable', /Registry/);
    const statements = statementsOf(dataAccessRole).filter((s) =>
      JSON.stringify(s.Resource).includes(registry),
    );
    const own = {
      'ForAllValues:StringEquals': {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
        'dynamodb:LeadingKeys': ['TENANT#${aws:PrincipalTag/TenantId}'],
      },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    };

    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
        Condition: own,
      }),
      expect.objectContaining({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [registry, 'Arn'] }, '/index/byTenant']] },
        Condition: own,
      }),
      // Its own invitations: made, counted, listed and withdrawn, never deleted.
      expect.objectContaining({
        Sid: 'OwnTenantInvitationsOnly',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
        Condition: {
          'ForAllValues:StringEquals': {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
            'dynamodb:LeadingKeys': ['INVITES#${aws:PrincipalTag/TenantId}'],
          },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      // Its own agents: created, listed, rotated and revoked (deleted).
      expect.objectContaining({
        Sid: 'OwnTenantAgentsOnly',
        Action: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
        Condition: {
          'ForAllValues:StringEquals': {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
            'dynamodb:LeadingKeys': ['AGENTS#${aws:PrincipalTag/TenantId}'],
          },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    ]);
  });

  it("denies every use of KMS whose encryption context names another tenant than the session's", () => {
    const denies = statementsOf(dataAccessRole).filter((s) => s.Effect === 'Deny');

    expect(denies).toEqual([
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: '*',
        // Only where a tenantId context is present: AWS services using their managed keys on
        // the role's behalf (Secrets Manager, DynamoDB) send their own context.
        Condition: {
          StringNotEquals: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
            'kms:EncryptionContext:tenantId': '${aws:PrincipalTag/TenantId}',
          },
          Null: { 'kms:EncryptionContext:tenantId': 'false' },
        },
      }),
    ]);
    expect(
      statementsOf(dataAccessRole).filter(
        (s) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('kms:'),
      ),
    ).toEqual([]);
  });

  it("reaches only secrets under the session's own tenant path, and tags what it creates", () => {
    const secrets = statementsOf(dataAccessRole).filter((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:'),
    );
    const resources = secrets.map((s) => JSON.stringify(s.Resource));

    expect(secrets.flatMap(actionsOf).sort()).toEqual(
      [
        'secretsmanager:CreateSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:TagResource',
      ].sort(),
    );
    for (const resource of resources) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
      expect(resource).toContain(':secret:mcp-tenants/${aws:PrincipalTag/TenantId}/*');
    }
    expect(
      secrets.find((s) => actionsOf(s).includes('secretsmanager:CreateSecret'))?.Condition,
    ).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
      StringEquals: { 'aws:RequestTag/TenantId': '${aws:PrincipalTag/TenantId}' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['TenantId'] },
    });
    // The MCP function's own role reads one secret, the pseudonym key (audit records name a
    // member a call acts on by pseudonym), and no tenant's: nothing under the tenants' path.
    const own = statementsOf(mcpRole).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(own).toHaveLength(1);
    expect(actionsOf(own[0] as never).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(JSON.stringify(own[0]?.Resource)).toMatch(/IdentityPseudonymKey/);
  });

  it('never matches tenant partitions by prefix and never scans', () => {
    const isolation = JSON.stringify(statementsOf(dataAccessRole));

    expect(isolation).not.toMatch(/StringLike/);
    expect(statementsOf(dataAccessRole).flatMap(actionsOf)).not.toContain('dynamodb:Scan');
    expect(JSON.stringify(policyStatements(template).flatMap(actionsOf))).not.toContain(
      'dynamodb:Scan',
    );
  });

  it('gives the MCP function no permission on tenant data, only the way into the data role', () => {
    const statements = statementsOf(mcpRole);
    const onDataTable = statements.filter((s) => JSON.stringify(s.Resource).includes(dataTable));

    expect(onDataTable).toEqual([]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('sts:'))).toEqual([
      'sts:AssumeRole',
      'sts:TagSession',
    ]);
    expect(statements.find((s) => actionsOf(s).includes('sts:AssumeRole'))?.Resource).toEqual({
      'Fn::GetAtt': [dataAccessRole, 'Arn'],
    });
  });

  it('tells the MCP function which role to assume', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Stateless MCP server'),
      Environment: {
        Variables: Match.objectLike({
          DATA_ACCESS_ROLE_ARN: { 'Fn::GetAtt': [dataAccessRole, 'Arn'] },
        }),
      },
    });
  });

  it('lets the MCP function read its tenant and members and write memberships and the members lease, nothing more', () => {
    const registry = logicalId('AWS::DynamoDB::GlobalTable', /Registry/);
    const dynamo = statementsOf(mcpRole).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );

    expect(dynamo).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
      }),
      // Memberships and the members lease only: never a tenant record (its tier, status or
      // keys), and never an invitation (those go through the tenant-scoped session).
      expect.objectContaining({
        Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USER#*', 'LOCK#*'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USER#*'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      expect.objectContaining({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [registry, 'Arn'] }, '/index/byTenant']] },
      }),
      // Fair-use counters: per-user windows and the month's admissions, added to in place; no
      // Put, Delete or Scan, and never a metered row (only the metering function writes those).
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [logicalId('AWS::DynamoDB::GlobalTable', /Usage/), 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*', 'BUDGET#*'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      // usage_report reads the month's total and the metered rows.
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [logicalId('AWS::DynamoDB::GlobalTable', /Usage/), 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['BUDGET#*', 'USAGE#*'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    ]);
  });

  it('lets the metering function add to usage rows, monthly totals and delivery markers only', () => {
    const usage = logicalId('AWS::DynamoDB::GlobalTable', /Usage/);
    const statements = statementsOf(logicalId('AWS::IAM::Role', /^MeteringFunction/)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [usage, 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': ['USAGE#*', 'BUDGET#*', 'METERED#*'],
          },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    ]);
  });

  it("lets the authorizer read registry items by key and the signing key's public half, nothing else", () => {
    const registry = logicalId('AWS::DynamoDB::GlobalTable', /Registry/);
    const signingKey = logicalId('AWS::KMS::Key', /^TokenSigning/);
    const statements = statementsOf(logicalId('AWS::IAM::Role', /^McpApiAuthorizerRole/)).filter(
      (s) => actionsOf(s).some((a) => !a.startsWith('logs:')),
    );

    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [registry, 'Arn'] },
      }),
      pseudonymKeyRead(template),
      // Verifying agents' tokens: never kms:Sign, so it cannot mint one.
      expect.objectContaining({
        Action: 'kms:GetPublicKey',
        Resource: { 'Fn::GetAtt': [signingKey, 'Arn'] },
      }),
    ]);
  });
});
