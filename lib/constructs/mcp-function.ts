import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { TenancyConfig } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { MCP_CONFIG } from '../../lambda/mcp/config.js';
import { MCP_FUNCTION_TIMEOUT_SECONDS } from '../../lambda/shared/edge/api-contract.js';
import { REGISTRY_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { HandlerFunction } from './handler-function.js';
import { leadingKeysLike } from './leading-keys.js';
import type { TokenSigningKey } from './token-signing-key.js';

export interface McpFunctionProps {
  /** The API's public base URL: the resource URL and invitation links derive from it. */
  readonly apiBaseUrl: string;
  /** Tenant data: named only; the function reaches it through the data-access role. */
  readonly dataTable: ITableV2;
  /** Memberships (`USER#`), the members lease (`LOCK#`) and the byTenant index. */
  readonly registryTable: ITableV2;
  /** Rate-limit windows, budgets and usage rows. */
  readonly usageTable: ITableV2;
  /** Removed and demoted members are disabled, signed out and deleted here. */
  readonly userPool: IUserPool;
  /** @default - none: any request that carries an Origin is refused */
  readonly allowedOriginHostnames?: readonly string[];
  /** The tenant console's origin (lambda/shared/edge/console-cors.ts). */
  readonly consoleOrigin: string;
  /** @default - none (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (its log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The MCP function (lambda/mcp), with each grant set beside the variable that names what it
 * grants. Its own role reaches no tenant data: `useDataAccessRole` names the role it assumes per
 * request, per tenant.
 */
export class McpFunction extends HandlerFunction<typeof MCP_CONFIG> {
  constructor(scope: Construct, id: string, props: McpFunctionProps) {
    super(scope, id, {
      entry: 'mcp',
      config: MCP_CONFIG,
      description: 'Stateless MCP server: one server per request, tenant-scoped data access',
      memorySize: 512,
      timeout: Duration.seconds(MCP_FUNCTION_TIMEOUT_SECONDS),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // Each invocation runs in environments of its execution tenant only: an isolated tier's
      // tenant its own, a pooled tier's its pool (the API maps the tenant id from the
      // authorizer, mcp-api.ts). Immutable: switching it off or on replaces the function.
      tenancyConfig: TenancyConfig.PER_TENANT,
      environment: {
        DATA_TABLE_NAME: props.dataTable.tableName,
        API_BASE_URL: props.apiBaseUrl,
        ALLOWED_ORIGIN_HOSTNAMES: (props.allowedOriginHostnames ?? []).join(','),
        CONSOLE_ORIGIN: props.consoleOrigin,
      },
      removalPolicy: props.removalPolicy,
    });
    this.useRegistry(props.registryTable);
    this.useUsageTable(props.usageTable);
    this.useUserPool(props.userPool);
  }

  /** The role the function assumes, tagged with the request's tenant, for all tenant data. */
  useDataAccessRole(role: IRole): void {
    this.setEnvironment('DATA_ACCESS_ROLE_ARN', role.roleArn);
  }

  /**
   * The pooled KMS key, which wraps pooled tenants' data keys. No grant to this role: only the
   * data-access role, in the tenant's own session, may use it (its key policy says so).
   */
  usePooledKey(key: IKey): void {
    this.setEnvironment('POOLED_KEY_ARN', key.keyArn);
  }

  /**
   * Webhook deliveries carry a credential signed for their destination with this key, which is
   * never the key of access tokens: this function cannot mint one.
   */
  useWebhookSigningKey(signing: TokenSigningKey): void {
    this.setEnvironment('WEBHOOK_SIGNING_KEY_ARN', signing.key.keyArn);
    signing.grantSign(this.fn);
  }

  /**
   * The tenant-admin tools: read the caller's tenant and members, change a member's role,
   * remove a member. Writes are memberships (`USER#...` items) and the members lease
   * (`LOCK#...`): never a tenant record, its tier or its keys. Invitations are made, listed
   * and withdrawn through the tenant-scoped session instead (lambda/shared/tenancy/policy.ts).
   */
  private useRegistry(table: ITableV2): void {
    this.setEnvironment('REGISTRY_TABLE_NAME', table.tableName);
    this.grant(['dynamodb:GetItem'], [table.tableArn]);
    this.grant(
      ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      [table.tableArn],
      leadingKeysLike(REGISTRY_TABLE.userKeyPrefix, REGISTRY_TABLE.lockKeyPrefix),
    );
    this.grant(
      ['dynamodb:UpdateItem'],
      [table.tableArn],
      leadingKeysLike(REGISTRY_TABLE.userKeyPrefix),
    );
    this.grant(
      ['dynamodb:Query'],
      [`${table.tableArn}/index/${REGISTRY_TABLE.byTenantIndex.indexName}`],
    );
  }

  /**
   * Fair use: the per-user windows and the month's admitted calls, added to in place; usage
   * rows and the month's totals read back for usage_report. No Scan, no delete, and no write
   * to the metered rows, which only the metering function writes.
   */
  private useUsageTable(table: ITableV2): void {
    this.setEnvironment('USAGE_TABLE_NAME', table.tableName);
    this.grant(['dynamodb:UpdateItem'], [table.tableArn], leadingKeysLike('RATE#', 'BUDGET#'));
    this.grant(
      ['dynamodb:GetItem', 'dynamodb:Query'],
      [table.tableArn],
      leadingKeysLike('BUDGET#', 'USAGE#'),
    );
  }

  /** Removal and demotion: no sign-in, no refresh, then no account. */
  private useUserPool(userPool: IUserPool): void {
    this.setEnvironment('USER_POOL_ID', userPool.userPoolId);
    this.grant(
      [
        'cognito-idp:AdminDisableUser',
        'cognito-idp:AdminUserGlobalSignOut',
        'cognito-idp:AdminDeleteUser',
      ],
      [userPool.userPoolArn],
    );
  }

  private grant(
    actions: string[],
    resourceArns: string[],
    conditions?: Record<string, Record<string, unknown>>,
  ) {
    Grant.addToPrincipal({
      grantee: this.fn,
      actions,
      resourceArns,
      ...(conditions ? { conditions } : {}),
    });
  }
}
