import type { Template } from 'aws-cdk-lib/assertions';
import {
  type Decision,
  decideIam,
  type NamedPolicy,
  resolveValue,
  rolePolicies,
  type TemplateJson,
} from '../../local/iam/template-policies.js';

/** The account and Region the test stacks are synthesized for (see test/support/app.ts). */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const DEPLOYMENT = { account: ACCOUNT, region: REGION };

export type { Decision };

/**
 * A CloudFormation value with its intrinsics resolved the way the deployed stack would resolve
 * them, each resource named by its logical id: what a policy says once deployed.
 */
export function resolve(template: Template, value: unknown): unknown {
  return resolveValue(template.toJSON() as TemplateJson, value, DEPLOYMENT);
}

/** Every identity policy of a role as deployed: its inline policies and the policies attached to it. */
export function identityPoliciesOf(template: Template, roleId: string): NamedPolicy[] {
  return rolePolicies(template.toJSON() as TemplateJson, roleId, DEPLOYMENT);
}

/** IAM's decision for one request by a principal with the given identity policies. */
export function decide(request: {
  principal: string;
  identityPolicies: readonly NamedPolicy[];
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  resourcePolicy?: unknown;
}): Promise<Decision> {
  return decideIam({ ...request, account: ACCOUNT });
}
