#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { readAppConfig } from '../lib/config.js';
import { McpSaasStack } from '../lib/mcp-saas-stack.js';
import { addPolicyValidation } from '../lib/validation.js';

const app = new App();
new McpSaasStack(app, 'MultiTenantMcp', {
  description: 'Multi-tenant MCP server on AWS serverless (reference architecture)',
  config: readAppConfig(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addPolicyValidation(app);
