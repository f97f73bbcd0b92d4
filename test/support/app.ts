import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { readAppConfig } from '../../lib/config.js';
import { McpSaasStack } from '../../lib/mcp-saas-stack.js';
import { PROJECT_ROOT } from '../../local/process.js';

/** The context in cdk.json (feature flags included), so tests synthesize what `cdk` would. */
const cdkJsonContext = JSON.parse(readFileSync(`${PROJECT_ROOT}/cdk.json`, 'utf8')).context;

const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/**
 * The app as `bin/app.ts` builds it, with Lambda bundling skipped (the template is the same;
 * only the asset contents differ) and extra context for the case under test.
 */
export function buildApp(
  context: Record<string, unknown> = {},
  env: { account: string; region: string } | 'agnostic' = TEST_ENV,
) {
  const app = new App({
    context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new McpSaasStack(app, 'MultiTenantMcp', {
    config: readAppConfig(app.node),
    env: env === 'agnostic' ? undefined : env,
  });
  return { app, stack };
}

export function synthTemplate(
  context: Record<string, unknown> = {},
  env: { account: string; region: string } | 'agnostic' = TEST_ENV,
) {
  const { stack } = buildApp(context, env);
  return Template.fromStack(stack);
}

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
};

/** The X-Ray write actions active tracing grants every function (asserted in deploy-day.test.ts). */
export const TRACE_WRITE_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
/** The statement without the X-Ray write actions (which minimizePolicies may merge into it). */
function withoutTraceWrite(statement: Statement): Statement | undefined {
  const actions = actionsOf(statement).filter((a) => !TRACE_WRITE_ACTIONS.includes(a));
  if (actions.length === actionsOf(statement).length) return statement;
  if (actions.length === 0) return undefined;
  return { ...statement, Action: actions.length === 1 ? (actions[0] as string) : actions };
}

/**
 * Every statement of every inline IAM policy in the template, with the policy's logical id and
 * the logical ids of the roles it is attached to. The X-Ray write statement every function
 * role has is left out unless asked for, so each role's test lists what is its own.
 */
export function policyStatements(
  template: Template,
  { includeTracing = false }: { includeTracing?: boolean } = {},
): Array<Statement & { policy: string; roles: string[] }> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies).flatMap(([policy, resource]) => {
    const roles = (resource.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref);
    const statements = (resource.Properties.PolicyDocument.Statement as Statement[]).flatMap((s) =>
      includeTracing ? [s] : (withoutTraceWrite(s) ?? []),
    );
    return statements.map((s) => ({
      ...s,
      policy,
      roles,
    }));
  });
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** The statement that lets a function read the pseudonym key, and nothing else of Secrets Manager. */
export function pseudonymKeyRead(template: Template) {
  const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
  return expect.objectContaining({
    Effect: 'Allow',
    Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
    Resource: { Ref: secretId },
  });
}

/** A template's resources, as CloudFormation reads them (policies included). */
export type TemplateResources = Record<
  string,
  {
    Type: string;
    Properties: Record<string, unknown>;
    DeletionPolicy?: string;
    UpdateReplacePolicy?: string;
  }
>;

export function templateResources(template: Template): TemplateResources {
  return template.toJSON().Resources as TemplateResources;
}

/**
 * A policy in the form CDK writes it: a one-element list as its element, lists of actions
 * sorted. Compare a builder's output and a deployed policy so.
 */
export function canonicalPolicy(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.length === 1 ? canonicalPolicy(value[0]) : value.map(canonicalPolicy).sort();
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonicalPolicy(v)]));
  }
  return value;
}
