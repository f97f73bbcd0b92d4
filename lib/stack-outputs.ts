/**
 * The stack outputs the operator CLI (`npm run tenant -- --stack NAME`) reads, keyed by the
 * setting each becomes. The stack creates one output for each entry from this same list, so a
 * renamed or missing output fails synth and the tests rather than the operator's command.
 */
export const CLI_OUTPUTS = {
  REGISTRY_TABLE_NAME: 'RegistryTableName',
  DATA_TABLE_NAME: 'DataTableName',
  USAGE_TABLE_NAME: 'UsageTableName',
  AUDIT_TABLE_NAME: 'AuditTableName',
  AUDIT_LOG_GROUP_NAME: 'OperatorAuditLogGroup',
  USER_POOL_ID: 'UserPoolId',
  USAGE_PLAN_IDS: 'UsagePlanIds',
  PROVISIONING_QUEUE_URL: 'ProvisioningQueueUrl',
} as const;

/** The output naming the MCP endpoint; the CLI makes invitation links from its base. */
export const MCP_URL_OUTPUT = 'McpUrl';

export type CliSetting = keyof typeof CLI_OUTPUTS;
