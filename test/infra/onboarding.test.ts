import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { actionsOf, policyStatements, synthTemplate } from '../support/app.js';

const template = synthTemplate();
const roleOf = (prefix: RegExp) => {
  const ids = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => prefix.test(id));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const statementsOf = (roleId: string) =>
  policyStatements(template).filter((s) => s.roles.includes(roleId));
const queues = template.findResources('AWS::SQS::Queue');
const [dlqId] = Object.keys(queues).filter((id) => id.startsWith('OnboardingDeadLetters'));

describe('onboarding', () => {
  it('queues provisioning on an encrypted FIFO queue with a dead-letter queue after five tries', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 8 },
    });
  });

  it('raises an alarm as soon as a tenant lands in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('feeds the provisioner one message at a time, reporting failures per message', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives the provisioner only what provisioning needs', () => {
    const statements = statementsOf(roleOf(/^OnboardingProvisionerRole/));
    const actions = statements.flatMap(actionsOf).sort();

    expect(actions).toEqual(
      [
        'apigateway:DELETE',
        'apigateway:DELETE',
        'apigateway:GET',
        'apigateway:POST',
        'apigateway:POST',
        'apigateway:PUT',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'kms:CreateAlias',
        'kms:CreateKey',
        'kms:DeleteAlias',
        'kms:TagResource',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
        'sts:AssumeRole',
        'sts:TagSession',
        'tag:GetResources',
      ].sort(),
    );
    // Tenant data and the pooled key only through a tenant's own session: the one role it may
    // assume is the data-access role (whose trust demands the TenantId tag).
    const assume = statements.filter((s) => actionsOf(s).includes('sts:AssumeRole'));
    expect(assume.map((s) => JSON.stringify(s.Resource))).toEqual([
      expect.stringMatching(/DataAccessRole/),
    ]);
    // What each wildcard may touch is proven by IAM evaluation in deploy-day.test.ts.
    const onAnyKey = statements.filter((s) => JSON.stringify(s.Resource).includes(':key/*'));
    expect(onAnyKey.flatMap(actionsOf)).toEqual(['kms:TagResource']);
    expect(onAnyKey[0]?.Condition).toMatchObject({
      Null: { 'aws:ResourceTag/TenantId': 'true' },
    });
    const createKey = statements.find((s) => actionsOf(s).includes('kms:CreateKey'));
    expect(createKey?.Condition).toMatchObject({ Null: { 'aws:RequestTag/TenantId': 'false' } });
    expect(JSON.stringify(statements)).not.toMatch(
      /kms:Decrypt|kms:Encrypt|kms:GenerateDataKey|TenantData(?!Registry)/,
    );
  });

  it('lets the post-confirmation trigger write the registry and send to the queue, nothing else', () => {
    const statements = statementsOf(roleOf(/^OnboardingPostConfirmationRole/));
    const update = statements.find((s) => actionsOf(s).includes('dynamodb:UpdateItem'));

    // An invitation is taken with an update of its own item, in `INVITES#` partitions only.
    expect(update?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['INVITES#*'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
  });

  it('sweeps tenants stuck in PROVISIONING every ten minutes, reading only the tenant list', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    const statements = statementsOf(roleOf(/^OnboardingSweeperRole/));
    const query = statements.find((s) => actionsOf(s).includes('dynamodb:Query'));

    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:Query',
    ]);
    expect(query?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['TENANTS'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
  });

  it('outputs what the tenant CLI reads', () => {
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining(['RegistryTableName', 'DataTableName', 'UsagePlanIds', 'UserPoolId']),
    );
    template.hasOutput('UsagePlanIds', {
      Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
  });
});
