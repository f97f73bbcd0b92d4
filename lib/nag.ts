import { Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for each wildcard resource of a policy,
 * one finding at a time (cdk-nag 3 names findings by the resource as it renders it: `<Ref>`
 * for references, `<Resource.Attribute>` for attributes).
 */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    const rendered = render(stack.resolve(resource));
    if (!rendered.includes('*')) continue;
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
  }
}

/**
 * Grants statement by statement, each naming its resources (and conditions), and keeps every
 * resource named, so the wildcards among them can be acknowledged once, with one reason.
 */
export function grantStatements(grantee: IGrantable) {
  const resources: string[] = [];
  return {
    add(
      actions: string[],
      resourceArns: string[],
      conditions?: Record<string, Record<string, unknown>>,
    ): void {
      resources.push(...resourceArns);
      Grant.addToPrincipal({
        grantee,
        actions,
        resourceArns,
        ...(conditions ? { conditions } : {}),
      });
    },
    /** Every resource granted so far (acknowledgeWildcardResources keeps the wildcards). */
    resources,
  };
}

function render(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node && typeof node === 'object') {
    const value = node as Record<string, unknown>;
    if ('Fn::Join' in value) {
      const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
      return items.map(render).join(delimiter);
    }
    if ('Fn::GetAtt' in value) {
      const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
      return `<${render(resource)}.${render(attribute)}>`;
    }
    if ('Ref' in value) return `<${render(value.Ref)}>`;
  }
  return JSON.stringify(node);
}
