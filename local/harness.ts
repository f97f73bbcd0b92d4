import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DEFAULT_CALLBACK_URLS,
  endpointUrls,
  facadeUrls,
} from '../lambda/shared/edge/oauth-metadata.js';
import type { PoolApiKeys, UsagePlanIds } from '../lambda/shared/edge/usage-plans.js';
import { TIERS, usagePlanLimits } from '../lambda/shared/fair-use/tiers.js';
import { SIGN_UP_LIMITS } from '../lambda/shared/lifecycle/sign-up-limits.js';
import { SERVICE_NAME } from '../lambda/shared/platform/service.js';
import { pooledKeyPolicy } from '../lambda/shared/tenancy/isolation.js';
import { CONSOLE_CLIENT_ID, type ConsoleConfig } from '../lib/console-policy.js';
import { localAwsEnv } from './aws-env.js';
import { CONTRACT_FILE_VARIABLE } from './function-environment.js';
import { unframedLine } from './log-streams.js';
import { type LocalProcess, PROJECT_ROOT, startLocalProcess } from './process.js';
import { createTables, LOCAL_TABLE_NAMES } from './tables.js';

/**
 * The client id MCP clients may use without registering: a pre-registered client of the
 * authorization façade (with MCP Inspector's redirect URIs, and any `--redirect-uri`).
 */
export const LOCAL_CLIENT_ID = 'local-mcp-client';
/** The façade's own app client at the (local) user pool: the only client whose tokens count. */
export const LOCAL_COGNITO_CLIENT_ID = 'local-facade';
export const LOCAL_SCOPE = 'mcp/invoke';
/** Stands for the data-access role; the stand-in applies its policy to sessions of it. */
export const LOCAL_DATA_ACCESS_ROLE_ARN = 'arn:aws:iam::000000000000:role/local-tenant-data-access';
export const LOCAL_USER_POOL_ID = 'us-east-1_local';
export const LOCAL_PSEUDONYM_KEY_SECRET = 'mcp-platform/pseudonym-key';
export const LOCAL_SIGNING_KEY_ALIASES = {
  tokens: 'alias/mcp-platform/token-signing',
  webhooks: 'alias/mcp-platform/webhook-signing',
} as const;

/** One usage plan per tier, from the tier module, as the CDK app creates them (kept on restart). */
async function ensureUsagePlans(awsUrl: string): Promise<UsagePlanIds> {
  const apigw = new APIGatewayClient({
    region: 'us-east-1',
    endpoint: awsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { items = [] } = await apigw.send(new GetUsagePlansCommand({}));
  const ids = {} as UsagePlanIds;
  for (const tier of Object.values(TIERS)) {
    const name = `tier-${tier.name}`;
    const existing = items.find((plan) => plan.name === name);
    // A pooled tier's plan holds the whole tier's limits (lib/constructs/tier-usage-plans.ts).
    const limits = usagePlanLimits(tier);
    ids[tier.name] =
      existing?.id ??
      String(
        (
          await apigw.send(
            new CreateUsagePlanCommand({
              name,
              throttle: limits.throttle,
              ...(limits.quota
                ? { quota: { limit: limits.quota.limit, period: limits.quota.period } }
                : {}),
            }),
          )
        ).id,
      );
  }
  apigw.destroy();
  return ids;
}

/**
 * What the CDK app makes for the pooled tiers: each pooled tier's one shared API key in its
 * usage plan, and the pooled KMS key with its policy (the same builder's). Kept on restart.
 */
async function ensurePooledTiers(
  awsUrl: string,
  planIds: UsagePlanIds,
): Promise<{ poolApiKeys: PoolApiKeys; pooledKeyArn: string }> {
  const local = {
    region: 'us-east-1',
    endpoint: awsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const apigw = new APIGatewayClient(local);
  const poolApiKeys: PoolApiKeys = {};
  for (const tier of Object.values(TIERS)) {
    if (tier.resources !== 'pooled') continue;
    const name = `pool-${tier.name}`;
    const { items = [] } = await apigw.send(
      new GetApiKeysCommand({ nameQuery: name, includeValues: true }),
    );
    let key = items.find((item) => item.name === name);
    if (!key) {
      key = await apigw.send(
        new CreateApiKeyCommand({
          name,
          value: `${name}-${randomBytes(16).toString('hex')}`,
          enabled: true,
        }),
      );
      await apigw.send(
        new CreateUsagePlanKeyCommand({
          usagePlanId: planIds[tier.name],
          keyId: key.id,
          keyType: 'API_KEY',
        }),
      );
    }
    poolApiKeys[tier.name] = String(key.value);
  }
  apigw.destroy();
  const kms = new KMSClient(local);
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: POOLED_KEY_ALIAS }));
    return { poolApiKeys, pooledKeyArn: String(KeyMetadata?.Arn) };
  } catch (error) {
    if ((error as Error).name !== 'NotFoundException') throw error;
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({
        Policy: JSON.stringify(
          pooledKeyPolicy({
            dataAccessRoleArn: LOCAL_DATA_ACCESS_ROLE_ARN,
            accountRootArn: 'arn:aws:iam::000000000000:root',
          }),
        ),
      }),
    );
    const pooledKeyArn = String(KeyMetadata?.Arn);
    await kms.send(
      new CreateAliasCommand({ AliasName: POOLED_KEY_ALIAS, TargetKeyId: pooledKeyArn }),
    );
    return { poolApiKeys, pooledKeyArn };
  } finally {
    kms.destroy();
  }
}

/** How the local stack finds its pooled key again after a restart (CDK keeps it by logical id). */
const POOLED_KEY_ALIAS = 'alias/mcp-platform/pooled';

/**
 * The gateway's output lines, put into the local CloudWatch Logs (the AWS stand-in) as Lambda
 * sends a function's output to its log group: read from the pipe in this process, so the lines
 * a gateway printed reach the log store even if the gateway is killed right after. Lines of an
 * execution environment carry its log stream (local/log-streams.ts), which the stand-in reads.
 */
function shipLogs(awsUrl: string): (line: string) => void {
  let batch: string[] = [];
  let sending: Promise<void> = Promise.resolve();
  const flush = () => {
    const lines = batch;
    batch = [];
    sending = sending
      .then(async () => {
        await fetch(`${awsUrl}/__stand-in/logs`, { method: 'POST', body: lines.join('\n') });
      })
      .catch(() => undefined);
  };
  return (line) => {
    if (batch.length === 0) setTimeout(flush, 20);
    batch.push(line);
  };
}

/**
 * The platform's pseudonym key, as the CDK app generates it in Secrets Manager (kept on restart,
 * so pseudonyms in a persisted dev stack's logs stay stable).
 */
async function ensurePseudonymKey(awsUrl: string): Promise<void> {
  const secrets = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: awsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const Name = LOCAL_PSEUDONYM_KEY_SECRET;
  try {
    await secrets.send(new DescribeSecretCommand({ SecretId: Name }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await secrets.send(
      new CreateSecretCommand({ Name, SecretString: randomBytes(32).toString('hex') }),
    );
  } finally {
    secrets.destroy();
  }
}

/**
 * A signing key (RSA_2048, SIGN_VERIFY), as the CDK app creates its two in KMS (kept on restart
 * through its alias, so tokens and webhook receivers' cached keys stay valid).
 */
async function ensureSigningKey(awsUrl: string, alias: string): Promise<string> {
  const kms = new KMSClient({
    region: 'us-east-1',
    endpoint: awsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    return String(KeyMetadata?.Arn);
  } catch (error) {
    if ((error as Error).name !== 'NotFoundException') throw error;
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
    );
    const arn = String(KeyMetadata?.Arn);
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }));
    return arn;
  } finally {
    kms.destroy();
  }
}

export interface Harness {
  /** The local API Gateway: `${gatewayUrl}/mcp` is the MCP endpoint. */
  readonly gatewayUrl: string;
  /** The local Cognito (Managed Login pages, JWKS, OpenID configuration, token minting). */
  readonly issuerUrl: string;
  /** The tenant console's origin (`http://127.0.0.1:N`, as CloudFront's in AWS). */
  readonly consoleUrl: string;
  /** STS and DynamoDB stand-in (DynamoDB requests go on to dynalite). */
  readonly awsUrl: string;
  /** dynalite itself, for tools that need to see the raw table. */
  readonly dynamodbUrl: string;
  /** The provisioning queue's dead-letter queue. */
  readonly dlqUrl: string;
  /** AWS SDK environment of the handlers (through the stand-in). */
  readonly env: Readonly<Record<string, string>>;
  readonly processes: readonly LocalProcess[];
  /**
   * Kills the gateway (SIGKILL, mid-request if one is running: a Lambda environment that is
   * recycled) and starts a fresh one on the same port, with nothing kept in memory.
   */
  restartGateway(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Keep DynamoDB data on disk in this folder (in memory otherwise). */
  readonly dataPath?: string;
  readonly output?: 'inherit' | 'discard';
  /** How inherited output lines are shown (npm run dev: readable, or JSON with --json). */
  readonly formatLine?: (line: string) => string;
  /** Log level of the handlers. @default 'WARN' */
  readonly logLevel?: string;
  /** Port of the gateway. @default a free port */
  readonly gatewayPort?: string;
  /** How long the gateway caches authorizer results. @default as deployed (60 s) */
  readonly authorizerCacheTtlSeconds?: number;
  /** How long the gateway reuses an API key's state. @default as API Gateway (about 10 s) */
  readonly apiKeyCacheTtlSeconds?: number;
  /** Port of the authorization server. @default a free port */
  readonly authPort?: string;
  /** Port of the tenant console's static server (its own origin). @default a free port */
  readonly consolePort?: string;
  /**
   * Serve `POST /local/tokens` on the authorization server (tokens for any user, without a
   * password: for tests, benchmarks and `npm run dev -- --seed` only). @default false
   */
  readonly mintTokens?: boolean;
  /** Redirect URIs of the pre-registered MCP client. @default MCP Inspector's */
  readonly redirectUris?: readonly string[];
  /**
   * A PEM file of extra CA certificates the gateway's handlers trust (tests serve client
   * metadata documents over https on loopback with a certificate of their own).
   */
  readonly extraCaCerts?: string;
  /**
   * Sign-ups one source address may make per window, at the local Cognito API and Managed Login
   * pages (the web ACL's rule). A shared test stack, whose sign-ups stand for many people at
   * many addresses, raises it. @default the web ACL's (lambda/shared/lifecycle/sign-up-limits.ts)
   */
  readonly signUpRateLimit?: number;
  /** Self sign-ups per UTC day (`-c signUpDailyCap`). @default as deployed (200) */
  readonly signUpDailyCap?: number;
}

/**
 * Starts the whole local stack on 127.0.0.1, each part its own process: dynalite, the AWS
 * stand-in (STS + DynamoDB with IAM rules), the token issuer and the gateway running the real
 * handlers. Stops what it started if any part fails to start.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // What CDK deploys, synthesized while the first processes start (a few seconds).
  const contractDir = mkdtempSync(join(tmpdir(), 'mcp-local-'));
  const contractFile = join(contractDir, 'deployed-contract.json');
  const contract = synthesizeContract(contractFile);
  const started: LocalProcess[] = [];
  const stop = async () => {
    for (const proc of [...started].reverse()) await proc.stop();
    rmSync(contractDir, { recursive: true, force: true });
  };
  const start = async (
    script: string,
    args: string[] = [],
    env: Record<string, string> = {},
    onLine?: (line: string) => void,
    formatLine = options.formatLine,
  ) => {
    const proc = await startLocalProcess(script, args, {
      env,
      output: options.output,
      ...(onLine ? { onLine } : {}),
      ...(formatLine ? { formatLine } : {}),
    });
    started.push(proc);
    return proc;
  };

  try {
    const dynalite = await start(
      'local/dynalite-server.ts',
      options.dataPath ? ['--path', options.dataPath] : [],
    );
    const dynamodbUrl = `http://127.0.0.1:${dynalite.port}`;
    const admin = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamodbUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createTables(admin);
    admin.destroy();

    // The console's origin comes first: the MCP function and the façade are configured with it.
    const consoleConfigFile = join(contractDir, 'console-config.json');
    const consoleServer = await start('local/console-server.ts', [
      '--config',
      consoleConfigFile,
      ...(options.consolePort ? ['--port', options.consolePort] : []),
    ]);
    const consoleUrl = String(consoleServer.ready.url);

    await contract;
    const base = {
      [CONTRACT_FILE_VARIABLE]: contractFile,
      REGISTRY_TABLE_NAME: LOCAL_TABLE_NAMES.registry,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Metrics go to stdout as CloudWatch EMF lines; locally nobody collects them.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // By name: the stand-in that stores it runs the Cognito triggers that read it.
      PSEUDONYM_KEY_SECRET_ID: LOCAL_PSEUDONYM_KEY_SECRET,
      // The metering and audit functions run in the AWS stand-in, fed by their log
      // subscriptions.
      USAGE_TABLE_NAME: LOCAL_TABLE_NAMES.usage,
      AUDIT_TABLE_NAME: LOCAL_TABLE_NAMES.audit,
      AUDIT_RETENTION_DAYS: '365',
      // The operator CLI's actions go to this log group, subscribed like the MCP function's.
      AUDIT_LOG_GROUP_NAME: '/local/audit/operator-actions',
      // The pre-sign-up trigger runs in the AWS stand-in.
      SIGN_UP_DAILY_CAP: String(options.signUpDailyCap ?? SIGN_UP_LIMITS.dailyCap),
    };
    const signUpRateArgs =
      options.signUpRateLimit === undefined
        ? []
        : ['--sign-up-rate-limit', String(options.signUpRateLimit)];
    const aws = await start(
      'local/aws-stand-in-server.ts',
      [
        '--dynamodb',
        dynamodbUrl,
        ...(options.dataPath ? ['--state', join(options.dataPath, '..', 'aws-state.json')] : []),
        ...signUpRateArgs,
      ],
      { ...localAwsEnv({}), ...base },
    );
    const awsUrl = `http://127.0.0.1:${aws.port}`;
    const usagePlanIds = await ensureUsagePlans(awsUrl);
    await ensurePseudonymKey(awsUrl);
    const tokenSigningKeyArn = await ensureSigningKey(awsUrl, LOCAL_SIGNING_KEY_ALIASES.tokens);
    const webhookSigningKeyArn = await ensureSigningKey(awsUrl, LOCAL_SIGNING_KEY_ALIASES.webhooks);
    const pooled = await ensurePooledTiers(awsUrl, usagePlanIds);
    const env = {
      ...localAwsEnv({ aws: awsUrl }),
      ...base,
      DATA_TABLE_NAME: LOCAL_TABLE_NAMES.data,
      USAGE_TABLE_NAME: LOCAL_TABLE_NAMES.usage,
      DATA_ACCESS_ROLE_ARN: LOCAL_DATA_ACCESS_ROLE_ARN,
      POOLED_KEY_ARN: pooled.pooledKeyArn,
      POOL_API_KEYS: JSON.stringify(pooled.poolApiKeys),
      // A tier change waits for answers the gateway cached: as long as the tests' cache allows.
      ...(options.authorizerCacheTtlSeconds !== undefined
        ? { TIER_CHANGE_DRAIN_SECONDS: String(options.authorizerCacheTtlSeconds + 3) }
        : {}),
      TOKEN_SIGNING_KEY_ARN: tokenSigningKeyArn,
      WEBHOOK_SIGNING_KEY_ARN: webhookSigningKeyArn,
      PROVISIONER_ROLE_ARN: 'arn:aws:iam::000000000000:role/local-provisioner',
      // The authorizer accepts only tokens Cognito issued to the façade's app client.
      CLIENT_IDS: LOCAL_COGNITO_CLIENT_ID,
      REQUIRED_SCOPE: LOCAL_SCOPE,
      OAUTH_TABLE_NAME: LOCAL_TABLE_NAMES.oauth,
      COGNITO_CLIENT_ID: LOCAL_COGNITO_CLIENT_ID,
      PRE_REGISTERED_CLIENTS: JSON.stringify([
        {
          clientId: LOCAL_CLIENT_ID,
          clientName: 'Local MCP client',
          redirectUris: options.redirectUris ?? [...DEFAULT_CALLBACK_URLS],
        },
        {
          clientId: CONSOLE_CLIENT_ID,
          clientName: 'Tenant console',
          redirectUris: [`${consoleUrl}/`],
        },
      ]),
      CONSOLE_ORIGIN: consoleUrl,
      // Test clients serve their metadata documents on 127.0.0.1.
      ALLOW_LOOPBACK_CLIENT_METADATA: 'true',
      ALLOWED_ORIGIN_HOSTNAMES: 'localhost,127.0.0.1',
      USER_POOL_ID: LOCAL_USER_POOL_ID,
      USAGE_PLAN_IDS: JSON.stringify(usagePlanIds),
      PROVISIONING_QUEUE_URL: String(aws.ready.queueUrl),
      // Fast retries, so a failed provisioning step is retried within a test.
      RETRY_BASE_SECONDS: '1',
      // Local webhook receivers listen on 127.0.0.1 over http.
      ALLOW_LOOPBACK_WEBHOOKS: 'true',
    };

    const auth = await start(
      'local/auth-server.ts',
      [
        ...['--client-id', LOCAL_COGNITO_CLIENT_ID, '--scope', LOCAL_SCOPE],
        ...(options.authPort ? ['--port', options.authPort] : []),
        ...(options.mintTokens ? ['--mint-tokens'] : []),
        ...signUpRateArgs,
      ],
      env,
    );
    const issuerUrl = String(auth.ready.issuer);
    // Where the handlers find the (local) user pool: tokens' issuer, Managed Login, keys.
    const identityEnv = {
      JWT_ISSUER: issuerUrl,
      COGNITO_DOMAIN_URL: issuerUrl,
      JWKS_URI: `${issuerUrl}/.well-known/jwks.json`,
    };
    const startGateway = (port?: string) =>
      start(
        'local/gateway-server.ts',
        [
          ...(port ? ['--port', port] : []),
          ...(options.authorizerCacheTtlSeconds !== undefined
            ? ['--authorizer-cache-ttl', String(options.authorizerCacheTtlSeconds)]
            : []),
          ...(options.apiKeyCacheTtlSeconds !== undefined
            ? ['--api-key-cache-ttl', String(options.apiKeyCacheTtlSeconds)]
            : []),
        ],
        {
          ...env,
          ...identityEnv,
          ...(options.extraCaCerts ? { NODE_EXTRA_CA_CERTS: options.extraCaCerts } : {}),
        },
        shipLogs(awsUrl),
        // An execution environment's lines come framed with its log stream: shown without it.
        (line) => {
          const { message } = unframedLine(line);
          return options.formatLine ? options.formatLine(message) : message;
        },
      );
    let gateway = await startGateway(options.gatewayPort);
    const gatewayUrl = String(gateway.ready.url);
    // The façade's callback is the one callback URL of its app client, as the CDK app sets it.
    const registered = await fetch(`${issuerUrl}/local/app-client`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callbackUrls: [facadeUrls(gatewayUrl).callback] }),
    });
    if (!registered.ok) throw new Error(`auth-server: app client not set (${registered.status})`);
    // What the deploy uploads as the console's config.json (lib/mcp-saas-stack.ts).
    const facade = facadeUrls(gatewayUrl);
    const consoleConfig: ConsoleConfig = {
      mcpUrl: endpointUrls(gatewayUrl).resource,
      issuer: facade.issuer,
      authorizationEndpoint: facade.authorize,
      tokenEndpoint: facade.token,
      clientId: CONSOLE_CLIENT_ID,
      scope: LOCAL_SCOPE,
    };
    writeFileSync(consoleConfigFile, JSON.stringify(consoleConfig));

    return {
      gatewayUrl,
      issuerUrl,
      consoleUrl,
      awsUrl,
      dynamodbUrl,
      dlqUrl: String(aws.ready.dlqUrl),
      env: {
        ...env,
        ...identityEnv,
        API_BASE_URL: gatewayUrl,
      },
      processes: [...started],
      restartGateway: async () => {
        await gateway.kill();
        started.splice(started.indexOf(gateway), 1);
        gateway = await startGateway(String(gateway.port));
      },
      stop,
    };
  } catch (error) {
    await contract.catch(() => undefined);
    await stop();
    throw error;
  }
}

/**
 * Runs local/deployed-contract.ts (the CDK app, synthesized) and keeps its answer in `file`.
 * The answer is cached by the contents of everything it is made from (the CDK app, the shared
 * handler code it imports, cdk.json and the lock file), so a restart reuses it and any change
 * synthesizes again.
 */
async function synthesizeContract(file: string): Promise<void> {
  const hash = createHash('sha256');
  const inputs = ['lib', 'lambda', 'local/deployed-contract.ts', 'cdk.json', 'package-lock.json'];
  for (const input of inputs) {
    const path = join(PROJECT_ROOT, input);
    const files = statSync(path).isDirectory()
      ? readdirSync(path, { recursive: true, encoding: 'utf8' })
          .map((name) => join(path, name))
          .filter((name) => statSync(name).isFile())
          .sort()
      : [path];
    for (const name of files) hash.update(name).update(readFileSync(name));
  }
  const cache = join(PROJECT_ROOT, 'node_modules', '.cache', SERVICE_NAME);
  const cached = join(cache, `deployed-contract-${hash.digest('hex').slice(0, 16)}.json`);
  if (!existsSync(cached)) {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'local/deployed-contract.ts'],
      { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    JSON.parse(stdout);
    mkdirSync(cache, { recursive: true });
    writeFileSync(`${cached}.${process.pid}`, stdout);
    renameSync(`${cached}.${process.pid}`, cached);
  }
  copyFileSync(cached, file);
}
