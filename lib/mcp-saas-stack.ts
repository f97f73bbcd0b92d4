import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from './config.js';
import { AuthorizationFacade } from './constructs/authorization-facade.js';
import { Identity } from './constructs/identity.js';
import { McpApi } from './constructs/mcp-api.js';
import { Observability } from './constructs/observability.js';
import { Onboarding } from './constructs/onboarding.js';
import { TenantData } from './constructs/tenant-data.js';

export interface McpSaasStackProps extends StackProps {
  readonly config: AppConfig;
}

/** The client id of the pre-registered public client (redirect URIs from `-c callbackUrls`). */
export const PRE_REGISTERED_CLIENT_ID = 'mcp-client';

/** The whole multi-tenant MCP service in one stack, composed of one construct per concern. */
export class McpSaasStack extends Stack {
  readonly tenantData: TenantData;
  readonly identity: Identity;
  readonly mcpApi: McpApi;
  readonly authorizationFacade: AuthorizationFacade;
  readonly onboarding: Onboarding;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: McpSaasStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.tenantData = new TenantData(this, 'TenantData', {
      removalPolicy: config.removalPolicy,
    });
    this.identity = new Identity(this, 'Identity', {
      registryTable: this.tenantData.registryTable,
      domainPrefix: config.domainPrefix,
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi = new McpApi(this, 'McpApi', {
      identity: this.identity,
      registryTable: this.tenantData.registryTable,
      dataTable: this.tenantData.dataTable,
      usageTable: this.tenantData.usageTable,
      mcpReservedConcurrency: config.mcpReservedConcurrency,
      allowedOriginHostnames: config.allowedOriginHostnames,
      stageThrottle: config.stageThrottle,
      removalPolicy: config.removalPolicy,
    });
    this.authorizationFacade = new AuthorizationFacade(this, 'AuthorizationServer', {
      identity: this.identity,
      api: this.mcpApi.api,
      apiBaseUrl: this.mcpApi.baseUrl,
      preRegisteredClients: [
        {
          clientId: PRE_REGISTERED_CLIENT_ID,
          clientName: 'Pre-registered MCP client',
          redirectUris: config.callbackUrls,
        },
      ],
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi.acceptTokensFrom([this.authorizationFacade.cognitoClient]);
    this.onboarding = new Onboarding(this, 'Onboarding', {
      identity: this.identity,
      registryTable: this.tenantData.registryTable,
      dataAccessRole: this.mcpApi.isolation.dataAccessRole,
      usagePlanIds: this.mcpApi.usagePlanIds,
      removalPolicy: config.removalPolicy,
    });

    this.observability = new Observability(this, 'Observability', {
      stage: this.mcpApi.api.deploymentStage,
      mcpFunction: this.mcpApi.mcpFunction,
      authorizerFunction: this.mcpApi.authorizerFunction,
      provisionerFunction: this.onboarding.provisioner,
      provisioningDeadLetterQueue: this.onboarding.deadLetterQueue,
      otherAlarms: [this.onboarding.deadLetterAlarm],
      alarmEmail: config.alarmEmail,
    });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('McpUrl', this.mcpApi.mcpUrl, 'The MCP endpoint to give MCP clients');
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
    output('ManagedLoginDomain', this.identity.domain.baseUrl(), 'Sign-up and sign-in pages');
    output('McpScope', this.identity.mcpScope, 'The scope MCP clients ask for');
    output('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'Subscribe to get alarms');
    output(
      'DashboardName',
      this.observability.dashboard.dashboardName,
      'CloudWatch dashboard of the service',
    );
    output('UserPoolId', this.identity.userPool.userPoolId, 'Cognito user pool (tenant CLI)');
    output(
      'RegistryTableName',
      this.tenantData.registryTable.tableName,
      'Tenant registry (tenant CLI)',
    );
    output(
      'DataTableName',
      this.tenantData.dataTable.tableName,
      'Tenant data (tenant CLI: offboarding)',
    );
    output(
      'UsageTableName',
      this.tenantData.usageTable.tableName,
      'Usage counters (tenant CLI: usage)',
    );
    output(
      'UsagePlanIds',
      this.toJsonString(this.mcpApi.usagePlanIds),
      'Usage plan per tier (tenant CLI)',
    );
    output(
      'ProvisioningDeadLetterQueue',
      this.onboarding.deadLetterQueue.queueName,
      'Tenants that could not be provisioned',
    );
  }
}
