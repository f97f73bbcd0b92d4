import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { tableDefinitions } from '../../local/tables.js';
import { synthTemplate } from '../support/app.js';

const template = synthTemplate();
const tables = Object.fromEntries(
  Object.entries(template.findResources('AWS::DynamoDB::GlobalTable')).filter(([id]) =>
    id.startsWith('TenantData'),
  ),
);
// Logical ids: TenantData/Registry, TenantData/Data (CDK drops the repeated "Data"), TenantData/Usage.
const table = (construct: 'Registry' | 'Data' | 'Usage') =>
  Object.entries(tables).find(([id]) =>
    new RegExp(`^TenantData${construct === 'Data' ? '' : construct}[0-9A-F]{8}$`).test(id),
  )?.[1];

describe('tenant data construct', () => {
  it('partitions the data table by exactly the tenant id', () => {
    expect(table('Data')?.Properties.KeySchema).toEqual([
      { AttributeName: 'tenantId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('creates the same keys and indexes the local harness creates in dynalite', () => {
    const [registry, data, usage] = tableDefinitions();
    for (const [local, deployed] of [
      [registry, table('Registry')],
      [data, table('Data')],
      [usage, table('Usage')],
    ] as const) {
      expect(deployed).toBeDefined();
      expect(deployed?.Properties.KeySchema).toEqual(local?.KeySchema);
      expect(deployed?.Properties.AttributeDefinitions).toEqual(local?.AttributeDefinitions);
      expect(
        deployed?.Properties.GlobalSecondaryIndexes?.map(
          (i: { IndexName: string; KeySchema: unknown; Projection: unknown }) => [
            i.IndexName,
            i.KeySchema,
            i.Projection,
          ],
        ) ?? [],
      ).toEqual(
        local?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection]) ?? [],
      );
    }
  });

  it('bills every table on demand with point-in-time recovery, without deletion protection that would block a failed first deploy from cleaning up', () => {
    expect(Object.keys(tables)).toHaveLength(3);
    for (const each of Object.values(tables)) {
      expect(each.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(each.Properties.Replicas).toEqual([
        expect.objectContaining({
          DeletionProtectionEnabled: false,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]);
      expect(each.Properties.SSESpecification).toMatchObject({ SSEEnabled: true });
    }
  });

  it('expires usage windows and counters by TTL, and only those', () => {
    expect(table('Usage')?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(table('Data')?.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(table('Registry')?.Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('synthesizes without a concrete account and Region, as `cdk synth` does offline', () => {
    const agnostic = synthTemplate({}, 'agnostic');

    agnostic.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ Region: { Ref: 'AWS::Region' } })],
    });
  });

  it('retains every table when the stack is deleted or it is replaced, not when its creation fails', () => {
    template.allResources('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('deletes the tables only when a development stack asks for it', () => {
    const dev = synthTemplate({ removalPolicy: 'destroy' });

    dev.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    dev.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
    });
  });
});
