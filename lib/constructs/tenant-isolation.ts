import { Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import {
  ArnPrincipal,
  Grant,
  type IRole,
  PolicyStatement,
  Role,
  SessionTagsPrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
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

    Grant.addToPrincipal({
      grantee: props.callerRole,
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resourceArns: [this.dataAccessRole.roleArn],
    });
  }
}
