import { Aws, CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { CfnPolicy, CfnRole } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { facadeUrls } from '../lambda/shared/edge/oauth-metadata.js';
import { type AppConfig, assertManagedLoginRegion } from './config.js';
import { CONSOLE_CLIENT_ID } from './console-policy.js';
import { AuditTrail } from './constructs/audit-trail.js';
import { AuthorizationFacade } from './constructs/authorization-facade.js';
import { ConsoleSite } from './constructs/console-site.js';
import { Identity } from './constructs/identity.js';
import { McpApi } from './constructs/mcp-api.js';
import { Metering } from './constructs/metering.js';
import { Observability } from './constructs/observability.js';
import { Onboarding } from './constructs/onboarding.js';
import { Reclaimer } from './constructs/reclaimer.js';
import { SignUpGuard } from './constructs/sign-up-guard.js';
import { TenantData } from './constructs/tenant-data.js';
import { TenantIsolation } from './constructs/tenant-isolation.js';
import { TokenSigningKey } from './constructs/token-signing-key.js';
import { CLI_OUTPUTS, type CliSetting, MCP_URL_OUTPUT } from './stack-outputs.js';

export interface McpSaasStackProps extends StackProps {
  readonly config: AppConfig;
}

/** The client id of the pre-registered public client (redirect URIs from `-c callbackUrls`). */
export const PRE_REGISTERED_CLIENT_ID = 'mcp-client';

/** The API's origin: where the console's scripts send MCP calls and token requests. */
const apiOriginOf = (api: RestApi) =>
  `https://${api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;

/** The data-access role's logical id since its first release (see the constructor). */
export const DATA_ACCESS_ROLE_LOGICAL_ID = 'McpApiIsolationDataAccessRole8D498FAC';
export const DATA_ACCESS_POLICY_LOGICAL_ID = 'McpApiIsolationDataAccessRoleDefaultPolicy75157F2A';

/** The whole multi-tenant MCP service in one stack, composed of one construct per concern. */
export class McpSaasStack extends Stack {
  readonly tenantData: TenantData;
  readonly identity: Identity;
  readonly signUpGuard: SignUpGuard;
  readonly mcpApi: McpApi;
  /** The data-access role, the only way to tenant data (lambda/shared/tenancy/policy.ts). */
  readonly isolation: TenantIsolation;
  readonly authorizationFacade: AuthorizationFacade;
  readonly tokenSigning: TokenSigningKey;
  readonly webhookSigning: TokenSigningKey;
  readonly onboarding: Onboarding;
  readonly metering: Metering;
  /** Idle free tenants noticed and reclaimed; only with a notice sender (`-c noticeSender`). */
  readonly reclaimer?: Reclaimer;
  readonly observability: Observability;
  readonly consoleSite: ConsoleSite;
  readonly auditTrail: AuditTrail;

  constructor(scope: Construct, id: string, props: McpSaasStackProps) {
    super(scope, id, props);
    const { config } = props;
    assertManagedLoginRegion(this.region);

    this.tenantData = new TenantData(this, 'TenantData', {
      removalPolicy: config.removalPolicy,
    });
    this.identity = new Identity(this, 'Identity', {
      registryTable: this.tenantData.registryTable,
      usageTable: this.tenantData.usageTable,
      signUpDailyCap: config.signUpDailyCap,
      domainPrefix: config.domainPrefix,
      removalPolicy: config.removalPolicy,
    });
    // Sign-ups limited per source address (AWS WAF on the user pool), before any trigger runs.
    this.signUpGuard = new SignUpGuard(this, 'SignUpGuard', { userPool: this.identity.userPool });
    // The console's origin is CloudFront's; its CSP names the API's origin, known only once the
    // API exists (a token: CloudFormation orders the two, nothing here depends on the order).
    this.consoleSite = new ConsoleSite(this, 'Console', {
      apiOrigin: Lazy.string({ produce: () => apiOriginOf(this.mcpApi.api) }),
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi = new McpApi(this, 'McpApi', {
      consoleOrigin: this.consoleSite.origin,
      identity: this.identity,
      registryTable: this.tenantData.registryTable,
      dataTable: this.tenantData.dataTable,
      usageTable: this.tenantData.usageTable,
      mcpReservedConcurrency: config.mcpReservedConcurrency,
      allowedOriginHostnames: config.allowedOriginHostnames,
      stageThrottle: config.stageThrottle,
      removalPolicy: config.removalPolicy,
    });
    // What the platform signs itself, one key each: agents' access tokens (the façade signs,
    // the authorizer trusts) and webhook credentials (the MCP function signs).
    this.tokenSigning = new TokenSigningKey(this, 'TokenSigning', {
      signs: "agents' and delegations' access tokens",
      removalPolicy: config.removalPolicy,
    });
    this.webhookSigning = new TokenSigningKey(this, 'WebhookSigning', {
      signs: 'webhook delivery credentials',
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi.authorizerFunction.useTokenSigningKey(this.tokenSigning);
    this.mcpApi.mcpFunction.useWebhookSigningKey(this.webhookSigning);
    this.authorizationFacade = new AuthorizationFacade(this, 'AuthorizationServer', {
      identity: this.identity,
      registryTable: this.tenantData.registryTable,
      tokenSigningKey: this.tokenSigning,
      webhookSigningKey: this.webhookSigning,
      api: this.mcpApi.api,
      apiBaseUrl: this.mcpApi.baseUrl,
      preRegisteredClients: [
        {
          clientId: PRE_REGISTERED_CLIENT_ID,
          clientName: 'Pre-registered MCP client',
          redirectUris: config.callbackUrls,
        },
        {
          clientId: CONSOLE_CLIENT_ID,
          clientName: 'Tenant console',
          redirectUris: [`${this.consoleSite.origin}/`],
        },
      ],
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi.acceptTokensFrom([this.authorizationFacade.cognitoClient]);
    const facade = facadeUrls(this.mcpApi.baseUrl);
    this.consoleSite.publish({
      mcpUrl: this.mcpApi.mcpUrl,
      issuer: facade.issuer,
      authorizationEndpoint: facade.authorize,
      tokenEndpoint: facade.token,
      clientId: CONSOLE_CLIENT_ID,
      scope: this.identity.mcpScope,
    });
    // Every call's audit record, appended off the request path from the MCP function's log.
    this.auditTrail = new AuditTrail(this, 'AuditTrail', {
      sources: [this.mcpApi.mcpFunction, this.mcpApi.authorizerFunction],
      retentionDays: config.auditRetentionDays,
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi.mcpFunction.setEnvironment('AUDIT_TABLE_NAME', this.auditTrail.table.tableName);
    // Audit records and member lists name members by pseudonym, never by sub.
    this.identity.grantPseudonyms(this.mcpApi.mcpFunction);
    // No grant on tenant data anywhere else: only this role, per request, per tenant.
    this.isolation = new TenantIsolation(this, 'Isolation', {
      dataTable: this.tenantData.dataTable,
      registryTable: this.tenantData.registryTable,
      auditTable: this.auditTrail.table,
      callerRole: this.mcpApi.mcpFunction.role,
      removalPolicy: config.removalPolicy,
    });
    // Its logical id is the one it had inside McpApi: every tenant's KMS key policy names
    // this role's ARN, and a replaced role (new ARN) would lock every tenant out of its data.
    (this.isolation.dataAccessRole.node.defaultChild as CfnRole).overrideLogicalId(
      DATA_ACCESS_ROLE_LOGICAL_ID,
    );
    // And its policy's, so an update of a deployed stack changes nothing here.
    const policy = this.isolation.dataAccessRole.node.findChild('DefaultPolicy').node
      .defaultChild as CfnPolicy;
    policy.overrideLogicalId(DATA_ACCESS_POLICY_LOGICAL_ID);
    this.mcpApi.mcpFunction.useDataAccessRole(this.isolation.dataAccessRole);
    this.mcpApi.mcpFunction.usePooledKey(this.isolation.pooledKey);
    this.onboarding = new Onboarding(this, 'Onboarding', {
      identity: this.identity,
      registryTable: this.tenantData.registryTable,
      dataAccessRole: this.isolation.dataAccessRole,
      pooledKey: this.isolation.pooledKey,
      dataTable: this.tenantData.dataTable,
      usagePlanIds: this.mcpApi.usagePlanIds,
      removalPolicy: config.removalPolicy,
    });

    this.isolation.allowCaller(this.onboarding.provisioner.role);

    this.metering = new Metering(this, 'Metering', {
      source: this.mcpApi.mcpFunction,
      usageTable: this.tenantData.usageTable,
      removalPolicy: config.removalPolicy,
    });

    const { noticeSender, idleDays, noticeDays } = config.reclaim;
    if (noticeSender) {
      this.reclaimer = new Reclaimer(this, 'Reclaimer', {
        registryTable: this.tenantData.registryTable,
        usageTable: this.tenantData.usageTable,
        dataTable: this.tenantData.dataTable,
        userPool: this.identity.userPool,
        usagePlanIds: this.mcpApi.usagePlanIds,
        noticeSender,
        idleDays,
        noticeDays,
        mcpUrl: this.mcpApi.mcpUrl,
        removalPolicy: config.removalPolicy,
      });
    }

    this.observability = new Observability(this, 'Observability', {
      stage: this.mcpApi.api.deploymentStage,
      mcpFunction: this.mcpApi.mcpFunction,
      authorizerFunction: this.mcpApi.authorizerFunction,
      provisionerFunction: this.onboarding.provisioner,
      provisioningDeadLetterQueue: this.onboarding.deadLetterQueue,
      otherAlarms: [
        this.onboarding.deadLetterAlarm,
        this.metering.deadLetterAlarm,
        this.auditTrail.deadLetterAlarm,
        ...(this.reclaimer ? [this.reclaimer.deadLetterAlarm] : []),
      ],
      alarmEmail: config.alarmEmail,
      signUpDailyCap: config.signUpDailyCap,
    });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(MCP_URL_OUTPUT, this.mcpApi.mcpUrl, 'The MCP endpoint to give MCP clients');
    output(
      'ClientId',
      PRE_REGISTERED_CLIENT_ID,
      'Pre-registered client id, for MCP clients that use neither metadata documents nor registration',
    );
    output(
      'Issuer',
      this.authorizationFacade.issuer,
      'Authorization server MCP clients discover (the façade in front of Cognito)',
    );
    output(
      'TokenIssuer',
      this.identity.userPool.userPoolProviderUrl,
      'Issuer of the access tokens (the Cognito user pool)',
    );
    output(
      'Jwks',
      facadeUrls(this.mcpApi.baseUrl).jwks,
      "Public keys of the platform's own tokens: agents', delegations' and webhook credentials",
    );
    output(
      'ConsoleUrl',
      `${this.consoleSite.origin}/`,
      'The tenant console (sign in as a tenant admin)',
    );
    output('ManagedLoginDomain', this.identity.domain.baseUrl(), 'Sign-up and sign-in pages');
    output('McpScope', this.identity.mcpScope, 'The scope MCP clients ask for');
    output('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'Subscribe to get alarms');
    output(
      'DashboardName',
      this.observability.dashboard.dashboardName,
      'CloudWatch dashboard of the service',
    );
    output(
      'ProvisioningDeadLetterQueue',
      this.onboarding.deadLetterQueue.queueName,
      'Tenants that could not be provisioned',
    );

    // What the operator CLI reads: one output per entry of CLI_OUTPUTS, none left out.
    const forCli: Record<CliSetting, { value: string; description: string }> = {
      USER_POOL_ID: { value: this.identity.userPool.userPoolId, description: 'Cognito user pool' },
      REGISTRY_TABLE_NAME: {
        value: this.tenantData.registryTable.tableName,
        description: 'Tenant registry',
      },
      DATA_TABLE_NAME: {
        value: this.tenantData.dataTable.tableName,
        description: 'Tenant data (offboarding)',
      },
      USAGE_TABLE_NAME: {
        value: this.tenantData.usageTable.tableName,
        description: 'Usage counters (usage reports)',
      },
      AUDIT_TABLE_NAME: {
        value: this.auditTrail.table.tableName,
        description: 'Audit trail (audit reports)',
      },
      AUDIT_LOG_GROUP_NAME: {
        value: this.auditTrail.operatorLog.logGroupName,
        description: "Operator actions' audit records, appended to the trail",
      },
      USAGE_PLAN_IDS: {
        value: this.toJsonString(this.mcpApi.usagePlanIds),
        description: 'Usage plan per tier',
      },
      PROVISIONING_QUEUE_URL: {
        value: this.onboarding.queue.queueUrl,
        description: 'Provisioning queue (reprovision)',
      },
    };
    for (const [setting, { value, description }] of Object.entries(forCli)) {
      output(CLI_OUTPUTS[setting as CliSetting], value, `${description} (tenant CLI)`);
    }
  }
}
