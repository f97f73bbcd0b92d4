import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { tableDefinitions } from '../../local/tables.js';
import { synthTemplate } from '../support/app.js';

const template = synthTemplate();
const tables = template.findResources('AWS::DynamoDB::GlobalTable');
const byHashKey = (name: string) =>
  Object.values(tables).find((t) =>
    t.Properties.KeySchema.some(
      (k: { AttributeName: string; KeyType: string }) =>
        k.AttributeName === name && k.KeyType === 'HASH',
    ),
  );

describe('tenant data construct', () => {
  it('partitions the data table by exactly the tenant id', () => {
    expect(byHashKey('tenantId')?.Properties.KeySchema).toEqual([
      { AttributeName: 'tenantId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('creates the same keys and indexes the local harness creates in dynalite', () => {
    const [registry, data] = tableDefinitions();
    for (const [local, deployed] of [
      [registry, byHashKey('pk')],
      [data, byHashKey('tenantId')],
    ] as const) {
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

  it('bills both tables on demand with point-in-time recovery and deletion protection', () => {
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.Replicas).toEqual([
        expect.objectContaining({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]);
      expect(table.Properties.SSESpecification).toMatchObject({ SSEEnabled: true });
    }
  });

  it('synthesizes without a concrete account and Region, as `cdk synth` does offline', () => {
    const agnostic = synthTemplate({}, 'agnostic');

    agnostic.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ Region: { Ref: 'AWS::Region' } })],
    });
  });

  it('retains both tables when the stack is deleted', () => {
    template.allResources('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
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
