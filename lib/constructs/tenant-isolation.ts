import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import {
  AccountRootPrincipal,
  ArnPrincipal,
  Grant,
  type IRole,
  PolicyDocument,
  PolicyStatement,
  Role,
  SessionTagsPrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { pooledKeyPolicy } from '../../lambda/shared/tenancy/isolation.js';
import {
  DATA_ACCESS_TRUST_CONDITIONS,
  dataAccessPolicy,
  ownSecretsArn,
} from '../../lambda/shared/tenancy/policy.js';
import { acknowledgeWildcardResources } from '../nag.js';

export interface TenantIsolationProps {
  /** The tenant data table, partitioned by exactly the tenant id. */
  readonly dataTable: ITableV2;
  /** The registry: a session may read its own tenant's item and member list there. */
  readonly registryTable: ITableV2;
  /** The audit trail: a session may query its own tenant's records there. */
  readonly auditTable: ITableV2;
  /** The role that may assume the data-access role (the MCP function's). */
  readonly callerRole: IRole;
  /** @default RemovalPolicy.RETAIN (the pooled key) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The data-access role: its trust policy and its permissions, built by
 * lambda/shared/tenancy/policy.ts (see also lambda/shared/tenancy/isolation.ts).
 *
 * The data-access role is the only principal with access to tenant data. It can be assumed
 * only by the caller role, only with a `TenantId` session tag, and with no other tag. Its
 * permissions allow item actions on the data table only where every partition key equals the
 * session's tag: `ForAllValues:StringEquals` on `dynamodb:LeadingKeys` (exact match, so
 * `acme` never matches `acme-eu`), plus a `Null` check, because `ForAllValues` holds for a
 * request with no keys at all. There is no Scan and no index access.
 */
export class TenantIsolation extends Construct {
  readonly dataAccessRole: Role;
  /**
   * The one pooled KMS key: it wraps the data keys of pooled tiers' tenants, each usable only
   * in a session of that tenant (lambda/shared/tenancy/isolation.ts pooledKeyPolicy). A tenant
   * of a dedicated tier has a key of its own instead, made by the provisioner.
   */
  readonly pooledKey: Key;

  constructor(scope: Construct, id: string, props: TenantIsolationProps) {
    super(scope, id);

    this.dataAccessRole = new Role(this, 'DataAccessRole', {
      description: 'Per-request access to one tenant partition, scoped by the TenantId session tag',
      // The tag must be present and non-empty, and no other tag may ride along.
      assumedBy: new SessionTagsPrincipal(
        new ArnPrincipal(props.callerRole.roleArn),
      ).withConditions(DATA_ACCESS_TRUST_CONDITIONS),
    });

    // The statements themselves are built in lambda/shared/tenancy/policy.ts, the one place
    // the rule is written (the IAM-evaluation tests decide against the same builder).
    const { partition, region, account } = Stack.of(this);
    const secretArnPrefix = `arn:${partition}:secretsmanager:${region}:${account}:secret:`;
    for (const statement of dataAccessPolicy({
      dataTableArn: props.dataTable.tableArn,
      registryTableArn: props.registryTable.tableArn,
      auditTableArn: props.auditTable.tableArn,
      secretArnPrefix,
    })) {
      this.dataAccessRole.addToPolicy(PolicyStatement.fromJson(statement));
    }
    acknowledgeWildcardResources(
      this.dataAccessRole,
      [ownSecretsArn(secretArnPrefix)],
      "Secrets Manager appends a random suffix to each secret's ARN; the path is the session's own tenant's.",
    );

    this.grantAssume(props.callerRole);

    this.pooledKey = new Key(this, 'PooledKey', {
      description: 'Wraps the data keys of pooled-tier tenants, each bound to its tenant',
      enableKeyRotation: true,
      policy: PolicyDocument.fromJson(
        pooledKeyPolicy({
          dataAccessRoleArn: this.dataAccessRole.roleArn,
          accountRootArn: new AccountRootPrincipal().arn,
        }),
      ),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets another platform role assume the data-access role, on the same terms: a `TenantId` tag
   * and no other (the provisioner, which makes pooled tenants' data keys and re-seals a
   * tenant's data when it changes tier, in that tenant's own session).
   */
  allowCaller(role: IRole): void {
    this.dataAccessRole.assumeRolePolicy?.addStatements(
      new PolicyStatement({
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        principals: [new ArnPrincipal(role.roleArn)],
        conditions: DATA_ACCESS_TRUST_CONDITIONS,
      }),
    );
    this.grantAssume(role);
  }

  private grantAssume(role: IRole): void {
    Grant.addToPrincipal({
      grantee: role,
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resourceArns: [this.dataAccessRole.roleArn],
    });
  }
}
