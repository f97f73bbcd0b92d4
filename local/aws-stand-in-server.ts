/**
 * Local stand-in for the AWS services the project calls that have no npm emulator, on one
 * port of 127.0.0.1. Point the SDK at it with AWS_ENDPOINT_URL_<SERVICE>:
 *
 * - STS `AssumeRole` (query protocol), sessions signed so their tags cannot be edited;
 * - DynamoDB (passed on to dynalite), with the data-access role's IAM rules applied to
 *   requests signed with an STS session it issued;
 * - KMS key management and the tagging API's GetResources for keys;
 * - API Gateway API keys and usage plans;
 * - Cognito sign-up, confirmation and admin calls, running the real pre-sign-up and
 *   post-confirmation triggers, behind the web ACL's sign-up rule (local/stand-ins/waf.ts:
 *   SignUp calls counted per TCP peer address, refused past the limit as WAF refuses them);
 * - SQS for the provisioning queue (FIFO, visibility, dead-letter redrive);
 * - SES v2 SendEmail, from verified identities only, into an outbox (local/stand-ins/ses.ts):
 *   `/__stand-in/ses/identities` (POST `{"identity":"no-reply@example.com"}` verifies a sender
 *   or a domain) and `/__stand-in/ses/outbox` (accepted messages; `?to=<email>` for one
 *   recipient's);
 * - CloudWatch Logs: the MCP function's log group by log stream (one per execution
 *   environment; the harness puts the gateway's lines), its subscriptions (metering, audit)
 *   and `FilterLogEvents` on it; the operator log group the CLI writes to.
 *
 *   tsx local/aws-stand-in-server.ts --dynamodb http://127.0.0.1:PORT [--data-table NAME]
 *     [--state FILE]   keep keys, API keys, usage plans and users across restarts
 *     [--sign-up-rate-limit N]   SignUp calls per source address per window (default: the
 *                      web ACL's, lambda/shared/lifecycle/sign-up-limits.ts)
 *
 * Prints `{"service":"aws","port":N,"queueUrl":URL,"dlqUrl":URL}` when listening. Local-only
 * endpoints under /__stand-in/: `stats` (calls per action; POST resets), `faults` (POST
 * `{"action":"kms:CreateAlias","times":3,"when":"after"}` makes the next calls fail with a
 * 500, after doing the work or before it; `"kind":"throttle"` answers a 400
 * ThrottlingException instead), `apikeys/<value>` (the key and its plan, for the
 * local gateway), `inbox/<email>` (the last e-mail), `queues/<name>` (depth); and
 * `managed-login/`, where the local Managed Login pages (local/auth-server.ts) send the Cognito
 * calls of their forms: Managed Login is part of Cognito, and WAF counted the page's request
 * itself (the pages apply the same rule), so its sign-up is not counted a second time here.
 * Signatures are not checked. Requests that carry no session of this stand-in (static keys,
 * standing for the other roles) are not restricted.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { STAND_IN_SERVICES } from './aws-env.js';
import { loadContract, loadHandler } from './function-environment.js';
import { LOCAL_DATA_ACCESS_ROLE_ARN } from './harness.js';
import { LocalIam } from './iam/local-iam.js';
import { decideIam } from './iam/template-policies.js';
import { lambdaContext } from './lambda-context.js';
import { MCP_LOG_GROUP, unframedLine } from './log-streams.js';
import { ApiGatewayStandIn } from './stand-ins/apigateway.js';
import { CognitoStandIn, type CognitoTriggers } from './stand-ins/cognito.js';
import { decideDataAccess } from './stand-ins/dynamodb-guard.js';
import { transactWrite } from './stand-ins/dynamodb-transactions.js';
import { KmsStandIn } from './stand-ins/kms.js';
import { LogGroupStandIn, LogsStandIn } from './stand-ins/logs.js';
import type { Answer } from './stand-ins/protocol.js';
import { SecretsManagerStandIn } from './stand-ins/secrets-manager.js';
import { SesStandIn } from './stand-ins/ses.js';
import { type Caller, SessionIssuer } from './stand-ins/sessions.js';
import { SqsStandIn } from './stand-ins/sqs.js';
import { handleStsRequest } from './stand-ins/sts.js';
import { blockedSignUp, RateBasedRule, signUpRate } from './stand-ins/waf.js';
import { LOCAL_TABLE_NAMES } from './tables.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    dynamodb: { type: 'string' },
    /** Keep keys, API keys, usage plans and users in this file across restarts. */
    state: { type: 'string' },
    /** SignUp calls one source address may make in the rule's window. */
    'sign-up-rate-limit': { type: 'string' },
  },
});
if (!values.dynamodb) {
  process.stderr.write('aws-stand-in: --dynamodb <dynalite URL> is required\n');
  process.exit(2);
}
const dynamodbUrl = values.dynamodb;

export const QUEUE_NAME = 'tenant-provisioning.fifo';
export const DLQ_NAME = 'tenant-provisioning-dlq.fifo';

const sessions = new SessionIssuer();
// The web ACL's sign-up rule, in front of the user pool's API (lib/constructs/sign-up-guard.ts).
const signUpRule = new RateBasedRule(signUpRate(values['sign-up-rate-limit']));
// IAM as deployed: the data-access role's policies from the CDK app (local/deployed-contract.ts).
const iam = new LocalIam({ [LOCAL_DATA_ACCESS_ROLE_ARN]: loadContract().dataAccessPolicies });
const kms = new KmsStandIn(iam);
const apigateway = new ApiGatewayStandIn();
const sqs = new SqsStandIn();
const secrets = new SecretsManagerStandIn(iam);
const ses = new SesStandIn();
// The MCP function's log group has two subscription filters: metering and the audit trail.
const logGroup = { logGroup: MCP_LOG_GROUP };
// Its lines by log stream, for FilterLogEvents.
const mcpLogGroup = new LogGroupStandIn(MCP_LOG_GROUP);
const logs = new LogsStandIn(loadContract().usageFilterPattern, {
  ...logGroup,
  filterName: 'UsageRecords',
});
const auditLogs = new LogsStandIn(loadContract().auditFilterPattern, {
  ...logGroup,
  filterName: 'AuditRecords',
});
sqs.redrive(QUEUE_NAME, DLQ_NAME, 3);
let triggers: Promise<CognitoTriggers> | undefined;
const cognito = new CognitoStandIn(() => {
  // The triggers are the real handlers, loaded once this process knows its own URL (their
  // AWS calls come back here), one at a time, each with only its CDK-given environment.
  triggers ??= (async () => {
    const preSignUp = await loadHandler(
      'pre-sign-up',
      () => import('../lambda/pre-sign-up/index.js'),
    );
    const postConfirmation = await loadHandler(
      'post-confirmation',
      () => import('../lambda/post-confirmation/index.js'),
    );
    return {
      preSignUp: (event) => preSignUp.handler(event as never, lambdaContext('pre-sign-up')),
      postConfirmation: (event) =>
        postConfirmation.handler(event as never, lambdaContext('post-confirmation')),
    } satisfies CognitoTriggers;
  })();
  return triggers;
});

if (values.state && existsSync(values.state)) {
  const state = JSON.parse(readFileSync(values.state, 'utf8'));
  kms.restore(state.kms);
  apigateway.restore(state.apigateway);
  cognito.restore(state.cognito);
  secrets.restore(state.secrets);
  ses.restore(state.ses);
}
let saving: NodeJS.Timeout | undefined;
/** Writes the state file (atomically: write, then rename). */
function writeState(): void {
  const file = values.state;
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const snapshot = {
    kms: kms.snapshot(),
    apigateway: apigateway.snapshot(),
    cognito: cognito.snapshot(),
    secrets: secrets.snapshot(),
    ses: ses.snapshot(),
  };
  // Key material, secrets and password hashes: owner-only.
  writeFileSync(`${file}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
/** Writes the state file soon after a change, once for a burst of changes. */
function saveState(): void {
  if (!values.state || saving) return;
  saving = setTimeout(() => {
    saving = undefined;
    writeState();
  }, 100);
}

const stats = new Map<string, number>();
const count = (name: string, n = 1) => stats.set(name, (stats.get(name) ?? 0) + n);
/**
 * An injected fault: a failure, a throttle, (`slow`) the real answer `delayMs` late, or
 * (`conflict`, for TransactWriteItems) the cancellation DynamoDB answers when another
 * transaction writes one of the items at the same moment. This stand-in runs transactions one
 * at a time, so it never produces that cancellation by itself.
 */
type Fault = {
  times: number;
  when: 'before' | 'after';
  kind: 'failure' | 'throttle' | 'slow' | 'conflict';
  delayMs?: number;
};
const faults = new Map<string, Fault>();

const server = createServer((req, res) => {
  handle(req, res).catch((error: Error) => {
    process.stderr.write(`aws-stand-in: ${error.stack ?? error.message}\n`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ __type: 'InternalFailure', message: 'stand-in failure' }));
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const fromManagedLogin = url.pathname.startsWith('/__stand-in/managed-login/');
  if (url.pathname.startsWith('/__stand-in/') && !fromManagedLogin)
    return send(res, internal(req.method ?? 'GET', url, body));
  // WAF decides before Cognito does: a blocked sign-up reaches neither Cognito nor a trigger.
  if (!fromManagedLogin && blockedSignUp(signUpRule, req, res, url.pathname)) {
    count('waf:blocked:SignUp');
    return;
  }

  const target = String(req.headers['x-amz-target'] ?? '');
  const [service, action] = target.split('.') as [string, string | undefined];
  const input = () => JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;

  if (service === 'DynamoDB_20120810' && action) {
    return withFaults(res, `dynamodb:${action}`, () => handleDynamo(action, req, body));
  }
  if (service === 'TrentService' && action) {
    return withFaults(res, `kms:${action}`, async () => kms.handle(action, input(), callerOf(req)));
  }
  if (service === 'secretsmanager' && action) {
    return withFaults(res, `secretsmanager:${action}`, async () =>
      secrets.handle(action, input(), callerOf(req)),
    );
  }
  if (service === 'ResourceGroupsTaggingAPI_20170126' && action === 'GetResources') {
    return withFaults(res, 'tag:GetResources', async () => kms.getResources(input()));
  }
  if (service === 'AWSCognitoIdentityProviderService' && action) {
    return withFaults(res, `cognito-idp:${action}`, () => cognito.handle(action, input()));
  }
  if (service === 'Logs_20140328' && action === 'FilterLogEvents') {
    const query = input();
    if (query.logGroupName === MCP_LOG_GROUP) {
      return withFaults(res, 'logs:FilterLogEvents', async () => mcpLogGroup.filter(query));
    }
  }
  if (service === 'Logs_20140328' && action) {
    return withFaults(res, `logs:${action}`, async () => operatorLog(action, input()));
  }
  if (url.pathname.startsWith('/v2/email/')) {
    const name = url.pathname === '/v2/email/outbound-emails' ? 'SendEmail' : url.pathname;
    return withFaults(res, `ses:${name}`, async () =>
      ses.handle(req.method ?? 'GET', url, body.length ? input() : {}),
    );
  }
  if (service === 'AmazonSQS' && action)
    return withFaults(res, `sqs:${action}`, async () => sqs.handle(action, input()));
  if (/^\/(apikeys|usageplans)(\/|$)/.test(url.pathname)) {
    const template = url.pathname
      .split('/')
      .map((segment) =>
        ['', 'apikeys', 'usageplans', 'keys'].includes(segment) ? segment : '{id}',
      )
      .join('/');
    const name = `apigateway:${req.method} ${template}`;
    return withFaults(res, name, async () =>
      apigateway.handle(req.method ?? 'GET', url, body.length ? input() : {}),
    );
  }
  const form = new URLSearchParams(body.toString('utf8'));
  if (form.get('Action')) {
    return withFaults(res, `sts:${form.get('Action')}`, async () => {
      const answer = handleStsRequest(form, sessions);
      return { ...answer, headers: { 'content-type': 'text/xml' } };
    });
  }
  send(res, { status: 400, body: JSON.stringify({ __type: 'UnknownOperationException' }) });
}

/** Counts the call and applies an injected fault, if one is armed for this action. */
async function withFaults(
  res: ServerResponse,
  action: string,
  run: () => Promise<Answer>,
): Promise<void> {
  count(action);
  const fault = faults.get(action);
  if (fault && fault.times > 0) {
    fault.times -= 1;
    count(`fault:${action}`);
    if (fault.kind === 'slow') {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 30_000));
      return send(res, await run());
    }
    if (fault.kind === 'conflict') {
      return send(res, {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message:
            'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
          CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
        }),
        headers: { 'content-type': 'application/x-amz-json-1.0' },
      });
    }
    if (fault.when === 'after') await run();
    const type = fault.kind === 'throttle' ? 'ThrottlingException' : 'InternalFailure';
    return send(res, {
      status: fault.kind === 'throttle' ? 400 : 500,
      body: JSON.stringify({ __type: type, message: `injected fault on ${action}` }),
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
    });
  }
  send(res, await run());
  if (!action.startsWith('dynamodb:') && !action.startsWith('sqs:')) saveState();
}

function internal(method: string, url: URL, body: Buffer): Answer {
  const [, , what, ...rest] = url.pathname.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  const ok = (value: unknown) => ({
    status: 200,
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json' },
  });
  switch (what) {
    case 'stats':
      if (method === 'POST') stats.clear();
      return ok(Object.fromEntries(stats));
    case 'logs': {
      // The harness puts the gateway's output lines; the subscription delivers the usage
      // records to the metering function, which runs in this process (see deliverUsage).
      if (arg === '' && method === 'POST') {
        // Each line as its environment printed it, under that environment's log stream.
        const lines = body.toString('utf8').split('\n').filter(Boolean).map(unframedLine);
        logs.put(lines);
        auditLogs.put(lines);
        mcpLogGroup.put(lines);
        return ok({});
      }
      if (arg === 'stats') {
        const [usage, audit] = [logs.stats(), auditLogs.stats()];
        return ok({
          pendingRecords: usage.pendingRecords + audit.pendingRecords,
          inFlightDeliveries: usage.inFlightDeliveries + audit.inFlightDeliveries,
          failedDeliveries: usage.failedDeliveries + audit.failedDeliveries,
          usage,
          audit,
        });
      }
      return { status: 404, body: '{}' };
    }
    case 'faults': {
      if (method === 'DELETE') faults.clear();
      else {
        const { action, times, when, kind, delayMs } = JSON.parse(body.toString('utf8')) as {
          action: string;
          times?: number;
          when?: 'before' | 'after';
          kind?: Fault['kind'];
          delayMs?: number;
        };
        faults.set(action, {
          times: times ?? 1,
          when: when ?? 'before',
          kind: kind ?? 'failure',
          ...(delayMs === undefined ? {} : { delayMs }),
        });
      }
      return ok(Object.fromEntries(faults));
    }
    case 'apikeys': {
      const found = apigateway.keyByValue(arg);
      return found
        ? ok({
            id: found.key.id,
            enabled: found.key.enabled,
            plan: found.plan
              ? {
                  id: found.plan.id,
                  name: found.plan.name,
                  throttle: found.plan.throttle,
                  quota: found.plan.quota,
                }
              : null,
          })
        : { status: 404, body: '{}' };
    }
    case 'inbox':
      return ok({ message: cognito.lastMessage(arg) ?? null });
    case 'sign-in': {
      const { username, password, newPassword } = JSON.parse(body.toString('utf8')) as {
        username: string;
        password: string;
        newPassword?: string;
      };
      const outcome = cognito.signIn(
        String(username),
        String(password),
        newPassword === undefined ? undefined : String(newPassword),
      );
      // A new password set at the NEW_PASSWORD_REQUIRED step is a change to keep.
      if ('sub' in outcome && newPassword !== undefined) saveState();
      return 'sub' in outcome ? ok(outcome) : { status: 400, body: JSON.stringify(outcome) };
    }
    case 'refreshable': {
      const { sub, issuedAt } = JSON.parse(body.toString('utf8')) as {
        sub: string;
        issuedAt: number;
      };
      return ok({ refreshable: cognito.refreshable(String(sub), Number(issuedAt)) });
    }
    case 'queues':
      return ok({ depth: sqs.depth(arg) });
    case 'ses': {
      if (arg === 'identities' && method === 'POST') {
        const { identity } = JSON.parse(body.toString('utf8')) as { identity?: unknown };
        if (typeof identity !== 'string' || identity === '') return { status: 400, body: '{}' };
        ses.verify(identity);
        saveState();
        return ok({ identity });
      }
      if (arg === 'outbox') return ok(ses.outbox(url.searchParams.get('to') ?? undefined));
      return { status: 404, body: '{}' };
    }
    case 'kms':
      return ok(
        [...kms.keys.values()].map((k) => ({
          keyId: k.keyId,
          arn: k.arn,
          state: k.state,
          tags: k.tags,
          policy: JSON.parse(k.policy),
        })),
      );
    default:
      return { status: 404, body: '{}' };
  }
}

/**
 * Who signed a request: the STS session its token stands for, or the operator's credentials
 * when it carries no session token. A token that is not a valid session of this stand-in (or
 * signed with another access key) stands for a session with no role, which IAM lets do nothing.
 */
function callerOf(req: IncomingMessage): Caller {
  const token = req.headers['x-amz-security-token'];
  if (typeof token !== 'string') return { operator: true };
  const session = sessions.verify(token);
  if ('invalid' in session) return { refused: session.invalid };
  const accessKey = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
  if (session.accessKeyId !== accessKey) {
    return { refused: 'access key does not belong to the session' };
  }
  return { session };
}

async function handleDynamo(action: string, req: IncomingMessage, body: Buffer): Promise<Answer> {
  // Counted per table too, so benchmarks can tell registry reads from tenant data access.
  const request = JSON.parse(body.toString('utf8') || '{}') as { TableName?: string };
  if (request.TableName) count(`dynamodb:${action}:${request.TableName}`);
  const caller = callerOf(req);
  const refusal = await auditTableRefusal(action, request, caller);
  if (refusal) return accessDenied(action, refusal);
  if (action === 'TransactWriteItems') {
    // Only the platform's own roles write transactions (the metering function); a tenant
    // session has no grant for them locally, whatever it asks.
    if (!('operator' in caller))
      return accessDenied('TransactWriteItems', 'no transactions for sessions');
    const transaction = JSON.parse(body.toString('utf8')) as {
      TransactItems?: Array<Record<string, { TableName?: string }>>;
    };
    const tables = new Set(
      (transaction.TransactItems ?? []).flatMap((item) =>
        Object.values(item).map((op) => op.TableName),
      ),
    );
    for (const table of tables) count(`dynamodb:TransactWriteItems:${table}`);
    // Items written, for the cost figures (a transactional write costs two write units each).
    count('dynamodb:TransactWriteItems:items', transaction.TransactItems?.length ?? 0);
    const answer = await transactWrite(transaction, (op, input) =>
      forwardDynamo(op, req, Buffer.from(JSON.stringify(input))),
    );
    return { ...answer, headers: { 'content-type': 'application/x-amz-json-1.0' } };
  }
  if (!('operator' in caller)) {
    const decision =
      'refused' in caller
        ? { allowed: false as const, reason: caller.refused }
        : await decideDataAccess(action, request, caller.session, iam);
    if (!decision.allowed) {
      count(`denied:dynamodb:${action}`);
      const who = 'session' in caller ? caller.session.sessionName : 'unknown session';
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({
          __type: 'com.amazon.coral.service#AccessDeniedException',
          message: `User: assumed-role/${who} is not authorized to perform: dynamodb:${action} (${decision.reason})`,
        }),
      };
    }
  }
  return forwardDynamo(action, req, body);
}

/**
 * The audit table's resource policy, as deployed, decided for every caller (a resource policy's
 * Deny binds every principal, the platform's own roles and operators included). A transaction
 * or batch that touches the table is refused outright: each of its items would be decided as a
 * PutItem, UpdateItem or DeleteItem, and nothing of the application writes the table that way.
 */
async function auditTableRefusal(
  action: string,
  request: { TableName?: string; RequestItems?: Record<string, unknown> },
  caller: Caller,
): Promise<string | undefined> {
  const table = LOCAL_TABLE_NAMES.audit;
  if (action === 'TransactWriteItems' || action === 'BatchWriteItem') {
    return JSON.stringify(request).includes(`"${table}"`)
      ? 'the audit table is append-only (resource policy)'
      : undefined;
  }
  if (request.TableName !== table) return undefined;
  // A tenant session is the data-access role; the platform's own callers are not told apart
  // locally (they share the stand-in's credentials), so they are taken as the audit function,
  // the one role that may put. Their identity policies are not checked here (see README).
  const principal =
    'session' in caller ? LOCAL_DATA_ACCESS_ROLE_ARN : loadContract().auditWriterRoleArn;
  const decision = await decideIam({
    principal,
    context: { 'aws:PrincipalArn': principal },
    identityPolicies: [ALLOW_EVERYTHING],
    action: `dynamodb:${action}`,
    resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`,
    account: '000000000000',
    resourcePolicy: loadContract().auditTablePolicy,
  });
  return decision === 'ExplicitlyDenied'
    ? `dynamodb:${action} is denied by the audit table's resource policy`
    : undefined;
}

/**
 * CloudWatch Logs for the operator log group (the tenant CLI's actions), as far as the CLI uses
 * it: a stream must be created before events are put to it, and only the group the CDK app
 * creates exists. Its subscription is the audit function's, like the MCP function's group.
 */
const operatorStreams = new Set<string>();
function operatorLog(action: string, input: Record<string, unknown>): Answer {
  const json = (status: number, value: unknown): Answer => ({
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(value),
  });
  if (input.logGroupName !== process.env.AUDIT_LOG_GROUP_NAME) {
    return json(400, {
      __type: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
  }
  const stream = String(input.logStreamName ?? '');
  if (action === 'CreateLogStream') {
    if (operatorStreams.has(stream)) {
      return json(400, {
        __type: 'ResourceAlreadyExistsException',
        message: 'The specified log stream already exists',
      });
    }
    operatorStreams.add(stream);
    return json(200, {});
  }
  if (action === 'PutLogEvents') {
    if (!operatorStreams.has(stream)) {
      return json(400, {
        __type: 'ResourceNotFoundException',
        message: 'The specified log stream does not exist.',
      });
    }
    const events = (input.logEvents as Array<{ message: string }> | undefined) ?? [];
    auditLogs.put(events.map((event) => ({ logStream: stream, message: event.message })));
    return json(200, { nextSequenceToken: String(Date.now()) });
  }
  return json(400, { __type: 'UnknownOperationException' });
}

/** The identity side of the audit table's check: its resource policy alone decides. */
const ALLOW_EVERYTHING = {
  name: 'local-caller',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

function accessDenied(action: string, reason: string): Answer {
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      message: `not authorized to perform: dynamodb:${action} (${reason})`,
    }),
  };
}

// Kept-alive connections to dynalite: node:http rather than fetch, whose web streams cost this
// hop more than the DynamoDB work behind it (measured with --cpu-prof during the bench).
const dynaliteAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Sends a request on to dynalite (already decided by IAM) and hands back its answer. */
function forwardDynamo(action: string, req: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      dynamodbUrl,
      {
        method: 'POST',
        agent: dynaliteAgent,
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${action}`,
          authorization: req.headers.authorization ?? '',
          'x-amz-date': (req.headers['x-amz-date'] as string) ?? '',
          'content-length': body.byteLength,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (
              typeof value === 'string' &&
              !['connection', 'transfer-encoding', 'content-length', 'keep-alive'].includes(name)
            )
              headers[name] = value;
          }
          resolve({
            status: res.statusCode ?? 500,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/**
 * A log group subscription, as CloudWatch Logs runs it: due deliveries go to the subscribed
 * function (invoked asynchronously, so one at a time here), acknowledged when it succeeded and
 * offered again after the lease when it failed.
 */
function deliver(
  logs: LogsStandIn,
  entry: string,
  handler: (event: CloudWatchLogsEvent, context: Context) => Promise<unknown>,
): void {
  let busy = false;
  setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (let delivery = logs.next(); delivery; delivery = logs.next()) {
        try {
          await handler(delivery.event, lambdaContext(entry));
          logs.ack(delivery.id);
        } catch (error) {
          process.stderr.write(`aws-stand-in: ${entry}: ${(error as Error).message}\n`);
        }
      }
    } finally {
      busy = false;
    }
  }, 200).unref();
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers ?? { 'content-type': 'application/json' });
  res.end(answer.body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

server.on('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(`aws-stand-in: cannot listen: ${error.message}\n`);
  process.exit(1);
});
server.listen(Number(values.port), '127.0.0.1', async () => {
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // The triggers running in this process call AWS, that is, this stand-in.
  for (const service of STAND_IN_SERVICES) process.env[`AWS_ENDPOINT_URL_${service}`] = url;
  const queueUrl = `${url}/000000000000/${QUEUE_NAME}`;
  process.env.PROVISIONING_QUEUE_URL = queueUrl;
  deliver(
    logs,
    'metering',
    (await loadHandler('metering', () => import('../lambda/metering/index.js'))).handler,
  );
  deliver(
    auditLogs,
    'audit',
    (await loadHandler('audit', () => import('../lambda/audit/index.js'))).handler,
  );
  process.stdout.write(
    `${JSON.stringify({ service: 'aws', port, queueUrl, dlqUrl: `${url}/000000000000/${DLQ_NAME}` })}\n`,
  );
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (saving) {
      clearTimeout(saving);
      writeState();
    }
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
