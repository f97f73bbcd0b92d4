import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { TenantCredentials } from '../../lambda/shared/tenancy/credentials.js';
import { TenantDataAccess } from '../../lambda/shared/tenancy/data.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from '../../local/harness.js';
import { harness } from '../support/mcp.js';
import { uniqueTenantId } from '../support/registry.js';

const dataTable = () => process.env.DATA_TABLE_NAME as string;
const stats = async () =>
  (await (await fetch(`${harness().awsUrl}/__stand-in/stats`)).json()) as Record<string, number>;

/**
 * Attacks on the data layer from tenant A's side, with A's real scoped credentials: every
 * request for B's partition is refused by the data-access role's rules (applied here by the
 * AWS stand-in, as IAM applies them on AWS), whatever the calling code asks for.
 */
describe('tenant data isolation through scoped credentials', () => {
  const acme = uniqueTenantId('acme');
  const globex = uniqueTenantId('globex');
  const credentials = new TenantCredentials(new STSClient({}), {
    roleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
  });
  const data = new TenantDataAccess({ tableName: dataTable(), credentials });
  let asAcme: DynamoDBDocumentClient;

  beforeAll(async () => {
    await data.forTenant({ tenantId: acme }).create('NOTE#a', { body: 'ACME-SECRET' });
    await data.forTenant({ tenantId: globex }).create('NOTE#b', { body: 'GLOBEX-SECRET' });
    asAcme = DynamoDBDocumentClient.from(
      new DynamoDBClient({ credentials: () => credentials.forTenant(acme) }),
    );
  });

  const denied = (promise: Promise<unknown>) =>
    expect(promise).rejects.toMatchObject({ name: 'AccessDeniedException' });

  it("reads the tenant's own partition", async () => {
    const { Item } = await asAcme.send(
      new GetCommand({ TableName: dataTable(), Key: { tenantId: acme, sk: 'NOTE#a' } }),
    );

    expect(Item?.body).toBe('ACME-SECRET');
  });

  it("refuses to read another tenant's item", async () => {
    await denied(
      asAcme.send(
        new GetCommand({ TableName: dataTable(), Key: { tenantId: globex, sk: 'NOTE#b' } }),
      ),
    );
  });

  it('refuses a tenant whose id has the caller as a prefix', async () => {
    await denied(
      asAcme.send(
        new GetCommand({ TableName: dataTable(), Key: { tenantId: `${acme}-eu`, sk: 'NOTE#b' } }),
      ),
    );
  });

  it("refuses to write into another tenant's partition and leaves its data as it was", async () => {
    await denied(
      asAcme.send(
        new PutCommand({
          TableName: dataTable(),
          Item: { tenantId: globex, sk: 'NOTE#b', body: 'overwritten by acme' },
        }),
      ),
    );

    const item = await data.forTenant({ tenantId: globex }).get('NOTE#b');
    expect(item?.body).toBe('GLOBEX-SECRET');
  });

  it("refuses to query another tenant's partition", async () => {
    await denied(
      asAcme.send(
        new QueryCommand({
          TableName: dataTable(),
          KeyConditionExpression: 'tenantId = :t',
          ExpressionAttributeValues: { ':t': globex },
        }),
      ),
    );
  });

  it('refuses a Scan of the table', async () => {
    await denied(asAcme.send(new ScanCommand({ TableName: dataTable() })));
  });

  it('refuses any access to the tenant registry', async () => {
    await denied(
      asAcme.send(
        new GetCommand({
          TableName: process.env.REGISTRY_TABLE_NAME,
          Key: { pk: `TENANT#${globex}`, sk: 'TENANT' },
        }),
      ),
    );
  });

  it('refuses a session token edited to carry another tenant', async () => {
    const real = await credentials.forTenant(acme);
    const [payload, signature] = real.sessionToken?.split('.') ?? [];
    const session = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const edited = Buffer.from(JSON.stringify({ ...session, tags: { TenantId: globex } })).toString(
      'base64url',
    );
    const forged = DynamoDBDocumentClient.from(
      new DynamoDBClient({ credentials: { ...real, sessionToken: `${edited}.${signature}` } }),
    );

    await denied(
      forged.send(
        new GetCommand({ TableName: dataTable(), Key: { tenantId: globex, sk: 'NOTE#b' } }),
      ),
    );
  });

  it('assumes the role once per tenant and reuses the session while it is fresh', async () => {
    const fresh = new TenantCredentials(new STSClient({}), { roleArn: LOCAL_DATA_ACCESS_ROLE_ARN });
    const table = new TenantDataAccess({ tableName: dataTable(), credentials: fresh }).forTenant({
      tenantId: acme,
    });
    const before = (await stats())['sts:AssumeRole'] ?? 0;

    await Promise.all(Array.from({ length: 20 }, () => table.get('NOTE#a')));
    for (let i = 0; i < 20; i++) await table.get('NOTE#a');

    expect(((await stats())['sts:AssumeRole'] ?? 0) - before).toBe(1);
  });
});
