/**
 * What the CDK app deploys, read from the app itself for the local stack: each function's
 * environment variable names and the data-access role's IAM policies, resolved for the local
 * account, Region and table names. The local stand-ins decide with these policies and each
 * handler runs with exactly its own variables, so the local stack cannot drift from CDK.
 *
 *   tsx local/deployed-contract.ts > contract.json
 *
 * Synthesizes without bundling (a few seconds); the harness runs it while dynalite starts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { TENANT_ID_PARAMETER } from '../lambda/shared/edge/execution-tenant.js';
import { readAppConfig } from '../lib/config.js';
import { HandlerFunction } from '../lib/constructs/handler-function.js';
import { McpSaasStack } from '../lib/mcp-saas-stack.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './iam/local-iam.js';
import {
  type NamedPolicy,
  resolveValue,
  rolePolicies,
  type TemplateJson,
} from './iam/template-policies.js';
import { PROJECT_ROOT } from './process.js';
import { LOCAL_TABLE_NAMES } from './tables.js';

export interface DeployedContract {
  /** Environment variable names each function's CDK definition gives it, by `lambda/` entry. */
  readonly functions: Readonly<Record<string, readonly string[]>>;
  /** Each function's timeout in seconds, by `lambda/` entry: local runs get the same deadline. */
  readonly timeouts: Readonly<Record<string, number>>;
  /** The data-access role's identity policies, as deployed, for the local names. */
  readonly dataAccessPolicies: readonly NamedPolicy[];
  /** The filter pattern of the subscription that feeds the metering function. */
  readonly usageFilterPattern: string;
  /** The filter pattern of the subscription that feeds the audit function. */
  readonly auditFilterPattern: string;
  /**
   * The audit table's resource policy, as deployed for the local names (it denies every change
   * and deletion, and every put but the audit function's).
   */
  readonly auditTablePolicy: unknown;
  /** The audit function's role: the one principal the policy lets put. */
  readonly auditWriterRoleArn: string;
  /**
   * Lambda tenant isolation as deployed, by `lambda/` entry, for the functions that have it or
   * whose API Gateway integrations send a tenant id: whether the function is PER_TENANT, and
   * the mapping expression its integrations set `X-Amz-Tenant-Id` from, if any.
   */
  readonly tenancy: Readonly<Record<string, FunctionTenancy>>;
}

export interface FunctionTenancy {
  /** `TenancyConfig` PER_TENANT: Lambda refuses an invocation without a tenant id. */
  readonly perTenant: boolean;
  /** Where the integration takes the tenant id from (`context.authorizer.executionTenant`). */
  readonly tenantIdSource?: string;
}

export function deployedContract(): DeployedContract {
  const context = JSON.parse(readFileSync(`${PROJECT_ROOT}/cdk.json`, 'utf8')).context;
  // CDK's own schema validation runs in `npm run synth`; here it would only cost seconds.
  const app = new App({
    context: { ...context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new McpSaasStack(app, 'MultiTenantMcp', {
    config: readAppConfig(app.node),
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
  });
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  const names = {
    [logicalId(stack.tenantData.registryTable)]: LOCAL_TABLE_NAMES.registry,
    [logicalId(stack.tenantData.dataTable)]: LOCAL_TABLE_NAMES.data,
    [logicalId(stack.tenantData.usageTable)]: LOCAL_TABLE_NAMES.usage,
    [logicalId(stack.authorizationFacade.table)]: LOCAL_TABLE_NAMES.oauth,
    [logicalId(stack.auditTrail.table)]: LOCAL_TABLE_NAMES.audit,
  };

  const functions: Record<string, string[]> = {};
  const timeouts: Record<string, number> = {};
  for (const construct of stack.node.findAll()) {
    if (!(construct instanceof HandlerFunction)) continue;
    const cfn = construct.fn.node.defaultChild as CfnFunction;
    const environment = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> };
    functions[construct.entry] = Object.keys(environment?.variables ?? {}).sort();
    timeouts[construct.entry] = Number(stack.resolve(cfn.timeout) ?? 3);
  }

  const template = app.synth().getStackByName(stack.stackName).template as TemplateJson;
  const role = stack.isolation.dataAccessRole.node.defaultChild as CfnRole;
  const subscription = (id: string) =>
    String(
      template.Resources?.[
        stack.getLogicalId(
          stack.node.findAll().find((c) => c.node.path.endsWith(`/${id}`))?.node
            .defaultChild as never,
        )
      ]?.Properties?.FilterPattern ?? '',
    );
  const tenancy = functionTenancy(stack, template);
  const auditTable = template.Resources?.[logicalId(stack.auditTrail.table)];
  const replica = (auditTable?.Properties?.Replicas as Array<Record<string, unknown>>)?.[0];
  return {
    functions,
    timeouts,
    tenancy,
    usageFilterPattern: subscription('Metering/UsageRecords'),
    auditFilterPattern: subscription('AuditTrail/AuditRecordsMcp'),
    auditTablePolicy: resolveValue(
      template,
      (replica?.ResourcePolicy as { PolicyDocument?: unknown })?.PolicyDocument,
      { account: LOCAL_ACCOUNT, region: LOCAL_REGION, names },
    ),
    auditWriterRoleArn: String(
      resolveValue(template, stack.resolve(stack.auditTrail.function.role.roleArn), {
        account: LOCAL_ACCOUNT,
        region: LOCAL_REGION,
        names,
      }),
    ),
    dataAccessPolicies: rolePolicies(template, Stack.of(role).resolve(role.logicalId) as string, {
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      names,
    }),
  };
}

/**
 * Each function's tenancy configuration, and the tenant id mapping of the methods that invoke
 * it (one source per function: the local gateway maps it for every route of the function).
 */
function functionTenancy(stack: Stack, template: TemplateJson): Record<string, FunctionTenancy> {
  const entryOf = new Map<string, string>();
  const tenancy: Record<string, FunctionTenancy> = {};
  for (const construct of stack.node.findAll()) {
    if (!(construct instanceof HandlerFunction)) continue;
    const cfn = construct.fn.node.defaultChild as CfnFunction;
    entryOf.set(stack.getLogicalId(cfn), construct.entry);
    const mode = (stack.resolve(cfn.tenancyConfig) as { tenantIsolationMode?: string } | undefined)
      ?.tenantIsolationMode;
    if (mode !== undefined) tenancy[construct.entry] = { perTenant: mode === 'PER_TENANT' };
  }
  const sources = new Map<string, Set<string | undefined>>();
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    const integration = resource.Properties?.Integration as
      | { Uri?: unknown; RequestParameters?: Record<string, unknown> }
      | undefined;
    const uri = JSON.stringify(integration?.Uri ?? '');
    const entry = [...entryOf].find(([id]) => uri.includes(`"${id}"`))?.[1];
    if (!entry) continue;
    const source = Object.entries(integration?.RequestParameters ?? {}).find(
      ([name]) => name.toLowerCase() === TENANT_ID_PARAMETER.toLowerCase(),
    )?.[1];
    const seen = sources.get(entry) ?? new Set();
    seen.add(source === undefined ? undefined : String(source));
    sources.set(entry, seen);
  }
  for (const [entry, seen] of sources) {
    if (seen.size > 1) {
      throw new Error(
        `the methods of lambda/${entry} map ${TENANT_ID_PARAMETER} differently; the local gateway maps one source per function`,
      );
    }
    const [source] = seen;
    if (source === undefined) continue;
    tenancy[entry] = { perTenant: tenancy[entry]?.perTenant ?? false, tenantIdSource: source };
  }
  return tenancy;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(deployedContract())}\n`);
}
