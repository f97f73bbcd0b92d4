import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { UserPoolOperation } from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { POST_CONFIRMATION_CONFIG } from '../../lambda/post-confirmation/config.js';
import { PROVISIONER_CONFIG } from '../../lambda/provisioner/config.js';
import { PROVISIONING_SWEEPER_CONFIG } from '../../lambda/provisioning-sweeper/config.js';
import type { TierName } from '../../lambda/shared/fair-use/tiers.js';
import { MANAGED_BY } from '../../lambda/shared/lifecycle/tenant-resources.js';
import { REGISTRY_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { TENANT_TAG_KEY } from '../../lambda/shared/tenancy/isolation.js';
import { acknowledgeWildcardResources, grantStatements } from '../nag.js';
import { guardRule } from '../validation.js';
import { deadLetterAlarm } from './dead-letter-alarm.js';
import { HandlerFunction } from './handler-function.js';
import type { Identity } from './identity.js';

export interface OnboardingProps {
  readonly identity: Identity;
  readonly registryTable: ITableV2;
  /** The role the tenant keys' policies grant use to (with the tenant's tag and context). */
  readonly dataAccessRole: IRole;
  /** The pooled KMS key: pooled tenants' data keys are made under it, in their own sessions. */
  readonly pooledKey: IKey;
  /** The tenant data table: a tier change re-seals a tenant's fields there, in its session. */
  readonly dataTable: ITableV2;
  /** The usage plan of each tier; new tenants' API keys join their tier's. */
  readonly usagePlanIds: Readonly<Record<TierName, string>>;
  /**
   * How many times a provisioning message is received before it goes to the dead-letter
   * queue. A tier change's two drain waits each return its message once (FIFO queues cannot
   * delay one message), so eight leaves five tries for failures. @default 8
   */
  readonly maxAttempts?: number;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (log groups) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * From sign-up to an active tenant: the post-confirmation trigger creates the tenant and
 * queues it (FIFO, one group per tenant); the provisioner creates the tenant's KMS key and API
 * key, puts the key in its tier's usage plan and activates the tenant. Failed messages are
 * retried with backoff and end in a dead-letter queue with an alarm.
 */
export class Onboarding extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  readonly provisioner: HandlerFunction<typeof PROVISIONER_CONFIG>;

  constructor(scope: Construct, id: string, props: OnboardingProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const { region, account, partition } = Stack.of(this);

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This is the dead-letter queue of the provisioning queue.',
      },
      {
        id: guardRule('sqs_dlq_check'),
        reason:
          'This is the dead-letter queue of the provisioning queue: its messages are kept ' +
          '14 days, raise an alarm at once and are redriven by an operator.',
      },
    );

    this.provisioner = new HandlerFunction(this, 'Provisioner', {
      entry: 'provisioner',
      config: PROVISIONER_CONFIG,
      description: "Provisions a new tenant's keys and carries its tier changes",
      timeout: Duration.seconds(60),
      removalPolicy,
    });
    this.queue = new Queue(this, 'Provisioning', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the function timeout, as Lambda recommends for event sources.
      visibilityTimeout: Duration.seconds(360),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxAttempts ?? 8 },
    });
    this.provisioner.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        // CreateKey and CreateApiKey allow about 5 requests per second per account: a sign-up
        // burst waits in the queue instead of being throttled. The event source's maximum
        // concurrency (2 is its minimum), not reserved concurrency: a new account's quota may
        // leave nothing to reserve, and AWS advises against reserving for SQS sources.
        maxConcurrency: 2,
      }),
    );
    this.provisioner.setEnvironment('REGISTRY_TABLE_NAME', props.registryTable.tableName);
    this.provisioner.setEnvironment(
      'USAGE_PLAN_IDS',
      Stack.of(this).toJsonString(props.usagePlanIds),
    );
    this.provisioner.setEnvironment('DATA_ACCESS_ROLE_ARN', props.dataAccessRole.roleArn);
    this.provisioner.setEnvironment('PROVISIONING_QUEUE_URL', this.queue.queueUrl);
    this.provisioner.setEnvironment('PROVISIONER_ROLE_ARN', this.provisioner.role.roleArn);
    // Used only in tenants' own sessions (the data-access role): this role has no grant on
    // either.
    this.provisioner.setEnvironment('POOLED_KEY_ARN', props.pooledKey.keyArn);
    this.provisioner.setEnvironment('DATA_TABLE_NAME', props.dataTable.tableName);
    // A long re-sealing goes on in a new message, so it never uses up the receive count.
    this.queue.grantSendMessages(this.provisioner.fn);
    this.grantProvisioning(props, { region, account, partition });

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      this.deadLetterQueue,
      'A tenant could not be provisioned: see the provisioner logs, then redrive',
    );

    const postConfirmation = new HandlerFunction(this, 'PostConfirmation', {
      entry: 'post-confirmation',
      config: POST_CONFIRMATION_CONFIG,
      description: 'Creates the tenant of a new sign-up and queues its provisioning',
      // Cognito waits 5 seconds for a trigger.
      timeout: Duration.seconds(5),
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        PROVISIONING_QUEUE_URL: this.queue.queueUrl,
      },
      removalPolicy,
    });
    // The sign-up writes (a tenant record and the founder's membership, both conditional),
    // for the post-confirmation trigger and for the pre-token trigger, which heals a sign-up
    // whose post-confirmation failed and waits for a new tenant's provisioning.
    for (const trigger of [postConfirmation, props.identity.preTokenGeneration]) {
      Grant.addToPrincipal({
        grantee: trigger.fn,
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resourceArns: [props.registryTable.tableArn],
      });
      this.queue.grantSendMessages(trigger.fn);
    }
    props.identity.preTokenGeneration.setEnvironment('PROVISIONING_QUEUE_URL', this.queue.queueUrl);
    // A sign-up through an invitation takes the offer (PENDING to ACCEPTED, conditional).
    Grant.addToPrincipal({
      grantee: postConfirmation.fn,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [props.registryTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`${REGISTRY_TABLE.invitesKeyPrefix}*`],
        },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    props.identity.grantPseudonyms(postConfirmation);
    props.identity.userPool.addTrigger(UserPoolOperation.POST_CONFIRMATION, postConfirmation.fn);

    // Every ten minutes, tenants stuck in PROVISIONING (a crashed trigger, a message in the
    // dead-letter queue) are queued again; provisioning is idempotent.
    const sweeper = new HandlerFunction(this, 'Sweeper', {
      entry: 'provisioning-sweeper',
      config: PROVISIONING_SWEEPER_CONFIG,
      description: 'Queues tenants stuck in PROVISIONING for provisioning again',
      timeout: Duration.seconds(60),
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        PROVISIONING_QUEUE_URL: this.queue.queueUrl,
      },
      removalPolicy,
    });
    Grant.addToPrincipal({
      grantee: sweeper.fn,
      actions: ['dynamodb:Query'],
      resourceArns: [
        `${props.registryTable.tableArn}/index/${REGISTRY_TABLE.byTenantIndex.indexName}`,
      ],
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [REGISTRY_TABLE.allTenantsKey] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    this.queue.grantSendMessages(sweeper.fn);
    new Rule(this, 'SweepSchedule', {
      description: 'Re-queue tenants stuck in PROVISIONING',
      schedule: Schedule.rate(Duration.minutes(10)),
      targets: [new LambdaFunction(sweeper.fn)],
    });
  }

  /** What provisioning needs, and only that: each statement names its resources. */
  private grantProvisioning(
    props: OnboardingProps,
    { region, account, partition }: { region: string; account: string; partition: string },
  ): void {
    const { add, resources: wildcards } = grantStatements(this.provisioner.fn);

    add(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [props.registryTable.tableArn]);
    const managed = { [`aws:RequestTag/${MANAGED_BY.key}`]: MANAGED_BY.value };
    const onlyOurTags = { 'aws:TagKeys': [TENANT_TAG_KEY, MANAGED_BY.key] };
    // New keys must carry the tenant and ManagedBy tags, and no other. The role cannot change
    // any key policy: tenant keys' policies name it for describe, alias and deletion only.
    add(['kms:CreateKey'], ['*'], {
      Null: { [`aws:RequestTag/${TENANT_TAG_KEY}`]: 'false' },
      StringEquals: managed,
      'ForAllValues:StringEquals': onlyOurTags,
    });
    // Tags given to CreateKey need kms:TagResource on every key of the account and Region (KMS
    // documents no narrower resource for tag-on-create). It is held to our two tags, and never
    // on a key that already belongs to a tenant: no key can be moved to another tenant.
    add(['kms:TagResource'], [`arn:${partition}:kms:${region}:${account}:key/*`], {
      Null: {
        [`aws:RequestTag/${TENANT_TAG_KEY}`]: 'false',
        [`aws:ResourceTag/${TENANT_TAG_KEY}`]: 'true',
      },
      StringEquals: managed,
      'ForAllValues:StringEquals': onlyOurTags,
    });
    // Describing, aliasing and retiring a tenant key are granted by each key's own policy,
    // which applies at once (tag-based grants can take minutes to apply to a new key). The
    // alias side of CreateAlias and DeleteAlias is granted here.
    add(
      ['kms:CreateAlias', 'kms:DeleteAlias'],
      [`arn:${partition}:kms:${region}:${account}:alias/tenant/*`],
    );
    add(['tag:GetResources'], ['*']);

    // API keys: listed by name, created with the tenant and ManagedBy tags, and deleted (a
    // duplicate left by a lost race) only if this service created them.
    const apigw = `arn:${partition}:apigateway:${region}::`;
    add(['apigateway:GET'], [`${apigw}/apikeys`]);
    add(['apigateway:POST'], [`${apigw}/apikeys`], {
      Null: { [`aws:RequestTag/${TENANT_TAG_KEY}`]: 'false' },
      StringEquals: managed,
      'ForAllValues:StringEquals': onlyOurTags,
    });
    // Tags given at creation are authorized as a TagResource (PUT on /tags/<the key's ARN,
    // URL-encoded>): only our two tags, only on API keys, never on one that is already ours.
    add(['apigateway:PUT'], [`${apigw}/tags/*apikeys*`], {
      Null: {
        [`aws:RequestTag/${TENANT_TAG_KEY}`]: 'false',
        [`aws:ResourceTag/${MANAGED_BY.key}`]: 'true',
      },
      StringEquals: managed,
      'ForAllValues:StringEquals': onlyOurTags,
    });
    add(['apigateway:DELETE'], [`${apigw}/apikeys/*`], {
      StringEquals: { [`aws:ResourceTag/${MANAGED_BY.key}`]: MANAGED_BY.value },
    });
    const planKeys = Object.values(props.usagePlanIds).flatMap((planId) => [
      `${apigw}/usageplans/${planId}/keys`,
      `${apigw}/usageplans/${planId}/keys/*`,
    ]);
    add(['apigateway:POST', 'apigateway:DELETE'], planKeys);

    acknowledgeWildcardResources(
      this.provisioner,
      wildcards,
      'Tenant keys and API keys are created at run time, so their ARNs are not known at ' +
        'deploy time. kms:CreateKey and tag:GetResources accept only "*"; new KMS keys and API ' +
        'keys must carry exactly the TenantId and ManagedBy tags; kms:TagResource covers keys ' +
        'of this account and Region that belong to no tenant yet (tag-on-create needs it); ' +
        'aliases are limited to alias/tenant/*; API keys may be deleted only if tagged ' +
        'ManagedBy=multi-tenant-mcp; usage plan keys only in the three tier plans.',
    );
  }
}
