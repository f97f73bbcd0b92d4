import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  ProjectionType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  REGISTRY_TABLE,
  TENANT_DATA_TABLE,
  USAGE_TABLE,
} from '../../lambda/shared/platform/table-schema.js';

export interface TenantDataProps {
  /**
   * What happens to the tables when the stack is deleted. Anything but RETAIN also turns
   * deletion protection off; use it only for throw-away development stacks.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The tenant registry, the tenant data table and the usage table, all on demand, with point-in-time recovery
 * and, by default, RETAIN_ON_UPDATE_OR_DELETE (deletion protection only with RemovalPolicy.RETAIN).
 */
export class TenantData extends Construct {
  /** Tenants, memberships and (later) references to each tenant's keys. */
  readonly registryTable: TableV2;
  /** Tenant-owned items; the partition key is exactly the tenant id. */
  readonly dataTable: TableV2;
  /** Rate-limit windows, monthly budgets and usage per tool and day: platform-written. */
  readonly usageTable: TableV2;

  constructor(scope: Construct, id: string, props: TenantDataProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const common = {
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Not with RETAIN_ON_UPDATE_OR_DELETE: a failed first deploy deletes what it created, and
      // deletion protection would block that (ROLLBACK_FAILED). Stack deletes keep it anyway.
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
      // Table-level encryption at rest; per-tenant keys are applied client-side to the
      // sensitive attributes, since a table takes only one key.
      encryption: TableEncryptionV2.awsManagedKey(),
    };

    const index = REGISTRY_TABLE.byTenantIndex;
    this.registryTable = new TableV2(this, 'Registry', {
      ...common,
      partitionKey: { name: REGISTRY_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: REGISTRY_TABLE.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes: [
        {
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.INCLUDE,
          nonKeyAttributes: [...index.projectedAttributes],
        },
      ],
    });

    this.dataTable = new TableV2(this, 'Data', {
      ...common,
      partitionKey: { name: TENANT_DATA_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TENANT_DATA_TABLE.sortKey, type: AttributeType.STRING },
    });

    this.usageTable = new TableV2(this, 'Usage', {
      ...common,
      partitionKey: { name: USAGE_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: USAGE_TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: USAGE_TABLE.timeToLiveAttribute,
    });
  }
}
