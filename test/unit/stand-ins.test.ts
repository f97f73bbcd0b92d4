import { describe, expect, it } from 'vitest';
import { deployedContract } from '../../local/deployed-contract.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { LocalIam } from '../../local/iam/local-iam.js';
import { decideDataAccess } from '../../local/stand-ins/dynamodb-guard.js';
import { SessionIssuer } from '../../local/stand-ins/sessions.js';
import { handleStsRequest } from '../../local/stand-ins/sts.js';

const issuer = new SessionIssuer();
const session = issuer.issue({
  roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
  sessionName: 'tenant-acme',
  tags: { TenantId: 'acme' },
  expiresAt: Date.now() + 60_000,
}).session;
const S = (value: string) => ({ S: value });

describe('STS stand-in', () => {
  const form = (fields: Record<string, string>) =>
    new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', ...fields });

  it('issues a session whose token carries the tags and cannot be edited', () => {
    const answer = handleStsRequest(
      form({
        RoleArn: 'arn:aws:iam::000000000000:role/data',
        RoleSessionName: 'tenant-acme',
        'Tags.member.1.Key': 'TenantId',
        'Tags.member.1.Value': 'acme',
      }),
      issuer,
    );
    const token = /<SessionToken>(.+)<\/SessionToken>/.exec(answer.body)?.[1] as string;

    expect(answer.status).toBe(200);
    expect(issuer.verify(token)).toMatchObject({ tags: { TenantId: 'acme' } });
    expect(issuer.verify(token.replace(/^./, 'x'))).toHaveProperty('invalid');
  });

  it.each([
    ['a malformed role ARN', { RoleArn: 'role/data', RoleSessionName: 'ok-name' }],
    [
      'a session name over 64 characters',
      { RoleArn: 'arn:aws:iam::000000000000:role/d', RoleSessionName: 'x'.repeat(65) },
    ],
    [
      'a duration under 15 minutes',
      {
        RoleArn: 'arn:aws:iam::000000000000:role/d',
        RoleSessionName: 'ok-name',
        DurationSeconds: '60',
      },
    ],
  ])('answers %s with a ValidationError, as STS does', (_, fields) => {
    const answer = handleStsRequest(form(fields), issuer);

    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>ValidationError</Code>');
  });
});

describe('DynamoDB guard of the AWS stand-in: the deployed policies, evaluated', () => {
  // The data-access role's policies as the CDK app deploys them, for the local names.
  const iam = new LocalIam({
    [LOCAL_DATA_ACCESS_ROLE_ARN]: deployedContract().dataAccessPolicies,
  });
  const decide = async (action: string, request: Record<string, unknown>, as = session) =>
    (await decideDataAccess(action, request, as, iam)).allowed;

  it("allows the tenant's own keys", async () => {
    expect(
      await decide('GetItem', {
        TableName: 'tenant-data',
        Key: { tenantId: S('acme'), sk: S('x') },
      }),
    ).toBe(true);
  });

  it('reads the partition key of a query written either way round', async () => {
    const query = (expression: string, value: string) =>
      decide('Query', {
        TableName: 'tenant-data',
        KeyConditionExpression: expression,
        ExpressionAttributeNames: { '#p': 'tenantId' },
        ExpressionAttributeValues: { ':v': S(value) },
      });

    expect(await query('#p = :v', 'acme')).toBe(true);
    expect(await query(':v = #p', 'globex')).toBe(false);
  });

  it('refuses a batch write with one foreign key among its own', async () => {
    const put = (tenant: string) => ({ PutRequest: { Item: { tenantId: S(tenant), sk: S('x') } } });

    expect(
      await decide('BatchWriteItem', {
        RequestItems: { 'tenant-data': [put('acme'), put('globex')] },
      }),
    ).toBe(false);
  });

  it('refuses a query on an index, a Scan, and another table', async () => {
    expect(
      await decide('Query', {
        TableName: 'tenant-data',
        IndexName: 'i',
        KeyConditionExpression: 'tenantId = :v',
        ExpressionAttributeValues: { ':v': S('acme') },
      }),
    ).toBe(false);
    expect(await decide('Scan', { TableName: 'tenant-data' })).toBe(false);
    expect(await decide('GetItem', { TableName: 'tenant-usage', Key: { pk: S('acme') } })).toBe(
      false,
    );
  });

  it("reads only the session's own tenant record and member list in the registry", async () => {
    const registry = { TableName: 'tenant-registry' };
    const record = (pk: string) =>
      decide('GetItem', { ...registry, Key: { pk: S(pk), sk: S('x') } });
    const members = (partition: string) =>
      decide('Query', {
        ...registry,
        IndexName: 'byTenant',
        KeyConditionExpression: '#p = :v',
        ExpressionAttributeNames: { '#p': 'gsi1pk' },
        ExpressionAttributeValues: { ':v': S(partition) },
      });

    expect(await record('TENANT#acme')).toBe(true);
    expect(await record('TENANT#globex')).toBe(false);
    expect(await record('USER#someone')).toBe(false);
    expect(await members('TENANT#acme')).toBe(true);
    expect(await members('TENANT#globex')).toBe(false);
    expect(await members('TENANTS')).toBe(false);
    expect(await decide('PutItem', { ...registry, Item: { pk: S('TENANT#acme') } })).toBe(false);
  });

  it('refuses a session without the tenant tag, and a session of another role', async () => {
    const request = { TableName: 'tenant-data', Key: { tenantId: S('acme') } };

    expect(await decide('GetItem', request, { ...session, tags: {} })).toBe(false);
    expect(
      await decide('GetItem', request, {
        ...session,
        roleArn: 'arn:aws:iam::000000000000:role/another',
      }),
    ).toBe(false);
  });
});
