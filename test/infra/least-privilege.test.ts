import { describe, expect, it } from 'vitest';
import { actionsOf, policyStatements, synthTemplate } from '../support/app.js';

const template = synthTemplate();
const statements = policyStatements(template);
const dynamoStatements = statements.filter((s) =>
  actionsOf(s).some((action) => action.startsWith('dynamodb:')),
);

describe('least privilege across the stack', () => {
  it('grants DynamoDB Scan to no one', () => {
    expect(dynamoStatements.length).toBeGreaterThan(0);
    const actions = dynamoStatements.flatMap(actionsOf);

    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('never grants a DynamoDB action on every resource', () => {
    const resources = dynamoStatements.flatMap((s) =>
      Array.isArray(s.Resource) ? s.Resource : [s.Resource],
    );

    expect(resources).not.toContain('*');
    expect(JSON.stringify(resources)).not.toMatch(/\/index\/\*|table\/\*/);
  });

  it('attaches no AWS managed policy, except the one API Gateway needs to write its logs', () => {
    const managed = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([, role]) => (role.Properties.ManagedPolicyArns ?? []).length > 0)
      .map(([id, role]) => [id, JSON.stringify(role.Properties.ManagedPolicyArns)]);

    expect(managed).toEqual([
      [
        expect.stringMatching(/^McpApiCloudWatchRole/),
        expect.stringContaining('AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    ]);
  });

  it('runs every function on a current Node.js runtime on ARM', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });
});
