import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { addPolicyValidation } from '../../lib/validation.js';
import { buildApp } from '../support/app.js';

/** The checks `npm run synth` runs (bin/app.ts), on the app as synthesized for the tests. */
describe('policy validation at synth: cdk-nag AwsSolutions and CloudFormation Guard', () => {
  it('finds nothing unacknowledged in the whole app', () => {
    const { app } = buildApp();
    addPolicyValidation(app);

    expect(() => app.synth()).not.toThrow();
  });

  it('fails synthesis on a cdk-nag finding, so the check above can fail', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new Bucket(new Stack(app, 'Control'), 'UnloggedBucket');
    addPolicyValidation(app);

    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('fails synthesis on a CloudFormation Guard finding that cdk-nag acknowledged', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    // A queue with no dead-letter queue: cdk-nag's SQS3 is acknowledged, Control Tower's
    // SQS.PR.1 (the same finding in Guard) is not.
    const queue = new Queue(new Stack(app, 'Control'), 'NoDeadLetters', { enforceSSL: true });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'the control case' });
    addPolicyValidation(app);

    expect(() => app.synth()).toThrow(/sqs_dlq_check|SQS\.PR\.1/);
  });
});
