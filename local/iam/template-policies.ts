/**
 * IAM policies of a synthesized CloudFormation template, resolved the way the deployed stack
 * would resolve them, and decided by a real IAM policy evaluator (@cloud-copilot/iam-simulate).
 * Shared by the infra tests (which evaluate the template for a test account) and the local
 * stand-ins (which evaluate it for the local account, so the local stack refuses exactly what
 * the deployed policies refuse).
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';

export interface TemplateJson {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export interface Deployment {
  readonly account: string;
  readonly region: string;
  /** The physical name of a resource by logical id, where it differs from the logical id. */
  readonly names?: Readonly<Record<string, string>>;
}

const ARN_OF: Record<string, (d: Deployment, name: string) => string> = {
  'AWS::DynamoDB::GlobalTable': (d, name) =>
    `arn:aws:dynamodb:${d.region}:${d.account}:table/${name}`,
  'AWS::IAM::Role': (d, name) => `arn:aws:iam::${d.account}:role/${name}`,
  'AWS::SecretsManager::Secret': (d, name) =>
    `arn:aws:secretsmanager:${d.region}:${d.account}:secret:${name}-AbCdEf`,
  'AWS::SNS::Topic': (d, name) => `arn:aws:sns:${d.region}:${d.account}:${name}`,
  'AWS::SQS::Queue': (d, name) => `arn:aws:sqs:${d.region}:${d.account}:${name}`,
  'AWS::Cognito::UserPool': (d, name) =>
    `arn:aws:cognito-idp:${d.region}:${d.account}:userpool/${name}`,
  'AWS::Logs::LogGroup': (d, name) => `arn:aws:logs:${d.region}:${d.account}:log-group:${name}`,
};

/** A CloudFormation value with its intrinsics resolved as the deployed stack would. */
export function resolveValue(
  template: TemplateJson,
  value: unknown,
  deployment: Deployment,
): unknown {
  const nameOf = (id: string) => deployment.names?.[id] ?? id;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const object = node as Record<string, unknown>;
    if ('Ref' in object) {
      const ref = String(object.Ref);
      const pseudo: Record<string, string> = {
        'AWS::AccountId': deployment.account,
        'AWS::Region': deployment.region,
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (pseudo[ref]) return pseudo[ref];
      const type = template.Resources[ref]?.Type ?? '';
      return ARN_OF[type]?.(deployment, nameOf(ref)) ?? nameOf(ref);
    }
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      const type = template.Resources[id]?.Type ?? '';
      if (attribute === 'Arn' && ARN_OF[type]) return ARN_OF[type](deployment, nameOf(id));
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

export interface NamedPolicy {
  readonly name: string;
  readonly policy: unknown;
}

/** Every identity policy of a role as deployed: its inline policies and those attached to it. */
export function rolePolicies(
  template: TemplateJson,
  roleId: string,
  deployment: Deployment,
): NamedPolicy[] {
  const policies: NamedPolicy[] = [];
  const role = template.Resources[roleId];
  for (const inline of (role?.Properties?.Policies as Array<Record<string, unknown>>) ?? []) {
    policies.push({
      name: String(inline.PolicyName),
      policy: resolveValue(template, inline.PolicyDocument, deployment),
    });
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.Roles as Array<{ Ref?: string }>) ?? [];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    policies.push({
      name: id,
      policy: resolveValue(template, resource.Properties?.PolicyDocument, deployment),
    });
  }
  return policies;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface IamRequest {
  readonly principal: string;
  readonly identityPolicies: readonly NamedPolicy[];
  readonly action: string;
  readonly resource: string;
  readonly account: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
  /** The resource's own policy (a KMS key policy, a topic policy). */
  readonly resourcePolicy?: unknown;
  /**
   * Evaluate every context key given, as given (arrays for multi-valued keys). The validated
   * runner drops keys it does not know for the action, among them `kms:EncryptionContext:<key>`
   * (its variable-key matching handles only `prefix/<name>` keys): a policy conditioned on the
   * encryption context would then see none, and a Deny on another tenant's context would
   * never apply, which is kinder than KMS. The local stand-ins pass all keys.
   */
  readonly allContextKeys?: boolean;
}

/** IAM's decision for one request. */
export async function decideIam(request: IamRequest): Promise<Decision> {
  const simulation = {
    identityPolicies: request.identityPolicies as never,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.account },
      contextVariables: { ...request.context },
    },
  };
  if (request.allContextKeys) {
    const result = runUnsafeSimulation(
      {
        ...simulation,
        // Handed over as a validated policy so that it carries a name: the unvalidated runner
        // loads a plain document without one and then fails reading it.
        ...(request.resourcePolicy
          ? {
              resourcePolicy: {
                __validated: true,
                policyDocument: request.resourcePolicy,
                metadata: { name: 'ResourcePolicy' },
                errors: [],
              } as never,
            }
          : {}),
      },
      {},
    );
    return result as Decision;
  }
  const response = await runSimulation(
    {
      ...simulation,
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as never } : {}),
    },
    {},
  );
  if (response.resultType === 'error') {
    throw new Error(`The simulation was refused: ${JSON.stringify(response.errors)}`);
  }
  return response.overallResult as Decision;
}
