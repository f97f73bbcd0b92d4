import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';

/** The account and Region the test stacks are synthesized for (see test/support/app.ts). */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

const ARN_OF: Record<string, (id: string) => string> = {
  'AWS::DynamoDB::GlobalTable': (id) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`,
  'AWS::IAM::Role': (id) => `arn:aws:iam::${ACCOUNT}:role/${id}`,
  'AWS::SecretsManager::Secret': (id) =>
    `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`,
  'AWS::SNS::Topic': (id) => `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`,
  'AWS::SQS::Queue': (id) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`,
  'AWS::Cognito::UserPool': (id) => `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${id}`,
  'AWS::Logs::LogGroup': (id) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}`,
};

/**
 * A CloudFormation value with its intrinsics resolved the way the deployed stack would resolve
 * them, each resource named by its logical id: what a policy says once deployed.
 */
export function resolve(template: Template, value: unknown): unknown {
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const object = node as Record<string, unknown>;
    if ('Ref' in object) {
      const ref = String(object.Ref);
      const pseudo: Record<string, string> = {
        'AWS::AccountId': ACCOUNT,
        'AWS::Region': REGION,
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (pseudo[ref]) return pseudo[ref];
      const type = resources[ref]?.Type ?? '';
      return ARN_OF[type]?.(ref) ?? ref;
    }
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      const type = resources[id]?.Type ?? '';
      if (attribute === 'Arn' && ARN_OF[type]) return ARN_OF[type](id);
      return `${id}.${attribute}`;
    }
    if ('Fn::Join' in object) {
      const [delimiter, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(walk).join(delimiter);
    }
    return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, walk(inner)]));
  };
  return walk(value);
}

/** Every identity policy of a role as deployed: its inline policies and the policies attached to it. */
export function identityPoliciesOf(template: Template, roleId: string) {
  const json = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const policies: Array<{ name: string; policy: unknown }> = [];
  const role = json[roleId];
  for (const inline of (role?.Properties.Policies as Array<Record<string, unknown>>) ?? []) {
    policies.push({
      name: String(inline.PolicyName),
      policy: resolve(template, inline.PolicyDocument),
    });
  }
  for (const [id, resource] of Object.entries(json)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties.Roles as Array<{ Ref?: string }>) ?? [];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    policies.push({ name: id, policy: resolve(template, resource.Properties.PolicyDocument) });
  }
  return policies;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** IAM's decision for one request by a principal with the given identity policies. */
export async function decide(request: {
  principal: string;
  identityPolicies: Array<{ name: string; policy: unknown }>;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  resourcePolicy?: unknown;
}): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: request.identityPolicies as never,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as never } : {}),
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context ?? {},
      },
    },
    {},
  );
  if (response.resultType === 'error') {
    throw new Error(`The simulation was refused: ${JSON.stringify(response.errors)}`);
  }
  return response.overallResult as Decision;
}
