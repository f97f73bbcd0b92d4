import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from './config.js';
import { Identity } from './constructs/identity.js';
import { McpApi } from './constructs/mcp-api.js';
import { TenantData } from './constructs/tenant-data.js';

export interface McpSaasStackProps extends StackProps {
  readonly config: AppConfig;
}

/** The whole multi-tenant MCP service in one stack, composed of one construct per concern. */
export class McpSaasStack extends Stack {
  readonly tenantData: TenantData;
  readonly identity: Identity;
  readonly mcpApi: McpApi;

  constructor(scope: Construct, id: string, props: McpSaasStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.tenantData = new TenantData(this, 'TenantData', {
      removalPolicy: config.removalPolicy,
    });
    this.identity = new Identity(this, 'Identity', {
      registryTable: this.tenantData.registryTable,
      domainPrefix: config.domainPrefix,
      callbackUrls: config.callbackUrls,
      removalPolicy: config.removalPolicy,
    });
    this.mcpApi = new McpApi(this, 'McpApi', {
      identity: this.identity,
      registryTable: this.tenantData.registryTable,
      dataTable: this.tenantData.dataTable,
      allowedOriginHostnames: config.allowedOriginHostnames,
      stageThrottle: config.stageThrottle,
      removalPolicy: config.removalPolicy,
    });
  }
}
