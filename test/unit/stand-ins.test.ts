import { describe, expect, it } from 'vitest';
import { decideDataAccess } from '../../local/stand-ins/dynamodb-guard.js';
import { SessionIssuer } from '../../local/stand-ins/sessions.js';
import { handleStsRequest } from '../../local/stand-ins/sts.js';

const issuer = new SessionIssuer();
const session = issuer.issue({
  roleArn: 'arn:aws:iam::000000000000:role/data',
  sessionName: 'tenant-acme',
  tags: { TenantId: 'acme' },
  expiresAt: Date.now() + 60_000,
}).session;
const S = (value: string) => ({ S: value });
const TABLES = { data: 'tenant-data', registry: 'tenant-registry' };

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

describe('DynamoDB guard of the AWS stand-in', () => {
  const decide = (action: string, request: Record<string, unknown>) =>
    decideDataAccess(action, request, session, {
      data: 'tenant-data',
      registry: 'tenant-registry',
    });

  it("allows the tenant's own keys", () => {
    expect(
      decide('GetItem', { TableName: 'tenant-data', Key: { tenantId: S('acme'), sk: S('x') } }),
    ).toEqual({
      allowed: true,
    });
  });

  it('reads the partition key of a query written either way round', () => {
    const query = (expression: string, value: string) =>
      decide('Query', {
        TableName: 'tenant-data',
        KeyConditionExpression: expression,
        ExpressionAttributeNames: { '#p': 'tenantId' },
        ExpressionAttributeValues: { ':v': S(value) },
      }).allowed;

    expect(query('#p = :v', 'acme')).toBe(true);
    expect(query(':v = #p', 'globex')).toBe(false);
  });

  it('refuses a batch write with one foreign key among its own', () => {
    const put = (tenant: string) => ({ PutRequest: { Item: { tenantId: S(tenant), sk: S('x') } } });

    expect(
      decide('BatchWriteItem', { RequestItems: { 'tenant-data': [put('acme'), put('globex')] } })
        .allowed,
    ).toBe(false);
  });

  it('refuses a query on an index, a Scan, and another table', () => {
    expect(
      decide('Query', {
        TableName: 'tenant-data',
        IndexName: 'i',
        KeyConditionExpression: 'tenantId = :v',
        ExpressionAttributeValues: { ':v': S('acme') },
      }).allowed,
    ).toBe(false);
    expect(decide('Scan', { TableName: 'tenant-data' }).allowed).toBe(false);
    expect(
      decide('GetItem', { TableName: 'tenant-other', Key: { tenantId: S('acme') } }).allowed,
    ).toBe(false);
  });

  it("reads only the session's own tenant record and member list in the registry", () => {
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

    expect(record('TENANT#acme').allowed).toBe(true);
    expect(record('TENANT#globex').allowed).toBe(false);
    expect(record('USER#someone').allowed).toBe(false);
    expect(members('TENANT#acme').allowed).toBe(true);
    expect(members('TENANT#globex').allowed).toBe(false);
    expect(members('TENANTS').allowed).toBe(false);
    expect(decide('PutItem', { ...registry, Item: { pk: S('TENANT#acme') } }).allowed).toBe(false);
  });

  it('refuses a session without the tenant tag', () => {
    const untagged = { ...session, tags: {} };

    expect(
      decideDataAccess(
        'GetItem',
        { TableName: 'tenant-data', Key: { tenantId: S('acme') } },
        untagged,
        TABLES,
      ).allowed,
    ).toBe(false);
  });
});
