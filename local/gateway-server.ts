/**
 * Runs the local gateway on 127.0.0.1 with the real authorizer, MCP and metadata handlers
 * loaded in this process, as warm Lambdas would be. Prints
 * `{"service":"gateway","port":N,"url":BASE}` when it serves.
 *
 *   tsx local/gateway-server.ts [--port 0] [--authorizer-cache-ttl SECONDS]
 *                               [--api-key-cache-ttl SECONDS]
 *
 * The handlers read their configuration from the environment, as on AWS (see
 * local/harness.ts for the variables); API_BASE_URL is set here from the port. The
 * provisioner runs here as well, fed from the provisioning queue.
 *
 * A function the CDK app makes PER_TENANT (Lambda tenant isolation, the MCP function) runs in
 * execution environments of each tenant id its integration maps, one worker thread each
 * (local/execution-environments.ts); the lines each prints are framed with its log stream
 * (local/log-streams.ts), the others' are printed as they are.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { API_STAGE_NAME } from '../lambda/shared/edge/api-contract.js';
import { bearerChallenge } from '../lambda/shared/edge/oauth-metadata.js';
import { ExecutionEnvironments } from './execution-environments.js';
import { functionVariables, loadContract, loadHandler } from './function-environment.js';
import { createGateway } from './gateway.js';
import { framedLine } from './log-streams.js';
import { startQueueRunner } from './queue-runner.js';
import type { PlanLimits } from './usage-plan-limits.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'authorizer-cache-ttl': { type: 'string' },
    'api-key-cache-ttl': { type: 'string' },
  },
});

let handle: ReturnType<typeof createGateway> | undefined;
const server = createServer((req, res) => {
  if (!handle) {
    res.writeHead(503).end();
    return;
  }
  handle(req, res).catch((error: Error) => {
    process.stderr.write(`gateway: ${error.stack ?? error.message}\n`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Internal server error' }));
  });
});
server.on('error', (error: NodeJS.ErrnoException) => {
  const reason =
    error.code === 'EADDRINUSE' ? `port ${values.port} is already in use` : error.message;
  process.stderr.write(`gateway: cannot listen: ${reason}\n`);
  process.exit(1);
});
await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));

const { port } = server.address() as AddressInfo;
// The API's base URL includes the stage, as execute-api's does.
const url = `http://127.0.0.1:${port}/${API_STAGE_NAME}`;
process.env.API_BASE_URL = url;
// One at a time, each with only the environment its CDK definition gives it.
const authorizer = await loadHandler('authorizer', () => import('../lambda/authorizer/index.js'));
const { tenancy } = loadContract();
let environments: ExecutionEnvironments<APIGatewayProxyEvent, APIGatewayProxyResult> | undefined;
let mcp: {
  handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
};
if (tenancy.mcp?.perTenant) {
  // Loaded in each environment on its first invocation; its configuration is checked now.
  functionVariables('mcp');
  const isolated = new ExecutionEnvironments<APIGatewayProxyEvent, APIGatewayProxyResult>({
    entry: 'mcp',
    onLine: (logStream, line) => process.stdout.write(`${framedLine(logStream, line)}\n`),
  });
  environments = isolated;
  mcp = { handler: (event, context) => isolated.invoke(event, context) };
} else {
  mcp = await loadHandler('mcp', () => import('../lambda/mcp/index.js'));
}
const protectedResource = await loadHandler(
  'protected-resource',
  () => import('../lambda/protected-resource/index.js'),
);
const authorizationServer = await loadHandler(
  'authorization-server',
  () => import('../lambda/authorization-server/index.js'),
);
const provisioner = await loadHandler(
  'provisioner',
  () => import('../lambda/provisioner/index.js'),
);
// The provisioner runs here too, fed from the provisioning queue like an event source mapping.
const runner = startQueueRunner({
  sqs: new SQSClient({}),
  queueUrl: process.env.PROVISIONING_QUEUE_URL as string,
  handler: provisioner.handler,
  visibilityTimeoutSeconds: 2,
  onError: (error) => process.stderr.write(`gateway: provisioner: ${(error as Error).message}\n`),
});
handle = createGateway({
  authorizer: authorizer.handler,
  mcp: mcp.handler,
  protectedResource: protectedResource.handler,
  authorizationServer: authorizationServer.handler,
  challenge: bearerChallenge(url, process.env.REQUIRED_SCOPE ?? ''),
  // The MCP function's own setting: the gateway answers the same origin's preflight.
  consoleOrigin: process.env.CONSOLE_ORIGIN ?? '',
  tenancy,
  apiKey: async (value) => {
    const response = await fetch(
      `${process.env.AWS_ENDPOINT_URL_API_GATEWAY}/__stand-in/apikeys/${encodeURIComponent(value)}`,
    );
    if (!response.ok) return undefined;
    const key = (await response.json()) as {
      id: string;
      enabled: boolean;
      plan: PlanLimits | null;
    };
    return { id: key.id, enabled: key.enabled, ...(key.plan ? { plan: key.plan } : {}) };
  },
  ...(values['authorizer-cache-ttl']
    ? { authorizerCacheTtlSeconds: Number(values['authorizer-cache-ttl']) }
    : {}),
  ...(values['api-key-cache-ttl']
    ? { apiKeyCacheTtlSeconds: Number(values['api-key-cache-ttl']) }
    : {}),
});
process.stdout.write(`${JSON.stringify({ service: 'gateway', port, url })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void runner.stop();
    // The environments' threads end with the process; stopped first, so none outlives a stop.
    void environments?.stop();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
