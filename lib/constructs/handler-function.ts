import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  LoggingFormat,
  Runtime,
  type TenancyConfig,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type * as z from 'zod';
import { SERVICE_NAME } from '../../lambda/shared/platform/service.js';
import { LAMBDA_BUNDLING } from '../bundling.js';
import { guardRule } from '../validation.js';

const LAMBDA_ROOT = fileURLToPath(new URL('../../lambda', import.meta.url));
const PROJECT_ROOT = path.dirname(LAMBDA_ROOT);

export { SERVICE_NAME };

export interface HandlerFunctionProps<Config extends z.ZodRawShape> {
  /** The folder under `lambda/` whose `index.ts` exports `handler`. */
  readonly entry: string;
  /**
   * What the handler reads from its environment: the shape `lambda/<entry>/config.ts` exports.
   * The environment may name only these variables, and synth fails while one the handler
   * requires is not set.
   */
  readonly config: Config;
  /** What the function is for, shown in the console. */
  readonly description: string;
  /**
   * Environment of the function (configuration it reads at load).
   * @default - none besides the Powertools settings
   */
  readonly environment?: { readonly [Name in keyof Config & string]?: string };
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default - no reservation (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Lambda tenant isolation: with `TenancyConfig.PER_TENANT` every invocation names a tenant
   * and runs only in execution environments of that tenant. Set at creation: changing it
   * replaces the function. It rules out provisioned concurrency, SnapStart and function URLs.
   * @default - none: environments are shared by every invocation
   */
  readonly tenancyConfig?: TenancyConfig;
  /**
   * A folder of static files copied into the bundle beside the handler, under its own name
   * (the console publisher ships the console's files this way).
   * @default - none
   */
  readonly bundledFolder?: string;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A handler under `lambda/<entry>/index.ts`, bundled by the local esbuild (no Docker), with
 * its own role and log group. The role starts with permission to write its own logs only
 * (no managed policy); callers grant the rest with L2 grant methods.
 */
export class HandlerFunction<Config extends z.ZodRawShape = z.ZodRawShape> extends Construct {
  /** The folder under `lambda/` the handler comes from. */
  readonly entry: string;
  /** The handler's configuration shape (`lambda/<entry>/config.ts`). */
  readonly config: Config;
  readonly fn: NodejsFunction;
  readonly role: IRole;
  readonly logGroup: LogGroup;

  private readonly variables = new Set<string>();

  constructor(scope: Construct, id: string, props: HandlerFunctionProps<Config>) {
    super(scope, id);
    this.entry = props.entry;
    this.config = props.config;
    for (const name of Object.keys(props.environment ?? {})) this.variables.add(name);
    this.node.addValidation({
      validate: () =>
        this.requiredVariables()
          .filter((name) => !this.variables.has(name))
          .map(
            (name) => `lambda/${props.entry} requires ${name}, which its environment does not set`,
          ),
    });
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.entry}`,
    });
    this.logGroup.grantWrite(role);
    this.role = role;

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(LAMBDA_ROOT, props.entry, 'index.ts'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tenancyConfig: props.tenancyConfig,
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      // Active tracing: Lambda samples and starts the trace, Powertools' Tracer adds the
      // subsegments, and the role gets the X-Ray write actions (which accept only "*").
      tracing: Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: LAMBDA_BUNDLING.target,
        minify: LAMBDA_BUNDLING.minify,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the pinned AWS SDK instead of the runtime's copy: same code as in the tests.
        externalModules: [],
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        banner: LAMBDA_BUNDLING.banner,
        ...(props.bundledFolder
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_input: string, output: string) => [
                  `cp -R "${props.bundledFolder}" "${output}/${path.basename(props.bundledFolder as string)}"`,
                ],
              },
            }
          : {}),
      },
    });
    Validations.of(this.fn).acknowledge({
      id: guardRule('lambda_inside_vpc_check'),
      reason:
        'The functions call only AWS APIs (over TLS, signed) and tenant webhooks on public ' +
        'addresses: a VPC would add NAT gateways (per AZ and hour) and endpoints without ' +
        'isolating tenants any further, which IAM session tags already do.',
    });
    acknowledgeLogGroupFindings(this.logGroup);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no ' +
        'resource-level permissions, so X-Ray documents "*" for them.',
    });
  }

  /** Sets one variable of the handler's configuration (a name it does not read does not compile). */
  setEnvironment(name: keyof Config & string, value: string): void {
    this.variables.add(name);
    this.fn.addEnvironment(name, value);
  }

  /** The variables the handler cannot start without (no default, not optional). */
  requiredVariables(): string[] {
    return Object.entries(this.config)
      .filter(([, schema]) => !(schema as z.ZodType).safeParse(undefined).success)
      .map(([name]) => name);
  }
}

/**
 * The CloudFormation Guard findings on this project's log groups, with the reasons that hold
 * for every one of them (function logs and the API's access log).
 */
export function acknowledgeLogGroupFindings(logGroup: LogGroup): void {
  Validations.of(logGroup).acknowledge(
    {
      id: guardRule('cloudwatch_log_group_retention_period_check'),
      reason:
        'Logs are kept one month on purpose (data minimisation: they carry tenant ids and ' +
        'user pseudonyms); audit records belong in a store built for them. A fork with a ' +
        'longer legal retention sets logRetention.',
    },
    {
      id: guardRule('cloudwatch_log_group_encrypted_check'),
      reason:
        'CloudWatch Logs encrypts every log group at rest with service-owned keys; the logs ' +
        'hold no tenant content (no note bodies, no secrets, pseudonymised users), so a ' +
        'customer key per log group would add cost without protecting tenant data.',
    },
  );
}
