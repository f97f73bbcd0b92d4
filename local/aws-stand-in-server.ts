/**
 * Local stand-in for the AWS services the project calls that have no npm emulator, on one
 * port of 127.0.0.1: STS (`AssumeRole`, query protocol) and DynamoDB (JSON protocol, passed
 * on to dynalite after the data-access role's IAM rules are applied to requests signed with
 * an STS session it issued). Point the SDK at it with AWS_ENDPOINT_URL_STS and
 * AWS_ENDPOINT_URL_DYNAMODB. Prints `{"service":"aws","port":N}` when listening.
 *
 *   tsx local/aws-stand-in-server.ts --dynamodb http://127.0.0.1:PORT [--data-table NAME]
 *
 * GET /__stand-in/stats counts calls per action (for benchmarks); POST resets them.
 * Signatures are not checked: any access key is accepted. Requests that carry no session of
 * this stand-in (static keys, standing for the other roles) are not restricted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { decideDataAccess } from './stand-ins/dynamodb-guard.js';
import { SessionIssuer } from './stand-ins/sessions.js';
import { handleStsRequest } from './stand-ins/sts.js';
import { LOCAL_TABLE_NAMES } from './tables.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    dynamodb: { type: 'string' },
    'data-table': { type: 'string', default: LOCAL_TABLE_NAMES.data },
  },
});
if (!values.dynamodb) {
  process.stderr.write('aws-stand-in: --dynamodb <dynalite URL> is required\n');
  process.exit(2);
}
const dynamodbUrl = values.dynamodb;
const dataTable = values['data-table'];

const sessions = new SessionIssuer();
const stats = new Map<string, number>();
const count = (name: string) => stats.set(name, (stats.get(name) ?? 0) + 1);

const server = createServer((req, res) => {
  handle(req, res).catch((error: Error) => {
    process.stderr.write(`aws-stand-in: ${error.stack ?? error.message}\n`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ __type: 'InternalFailure', message: 'stand-in failure' }));
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (req.url?.startsWith('/__stand-in/stats')) {
    if (req.method === 'POST') stats.clear();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(stats)));
    return;
  }

  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('DynamoDB_20120810.')) {
    await handleDynamo(target.slice('DynamoDB_20120810.'.length), req, body, res);
    return;
  }

  const form = new URLSearchParams(body.toString('utf8'));
  if (form.get('Action')) {
    count(`sts:${form.get('Action')}`);
    const answer = handleStsRequest(form, sessions);
    res.writeHead(answer.status, { 'content-type': 'text/xml' });
    res.end(answer.body);
    return;
  }
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ __type: 'UnknownOperationException', message: 'unknown operation' }));
}

async function handleDynamo(
  action: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  count(`dynamodb:${action}`);
  const token = req.headers['x-amz-security-token'];
  if (typeof token === 'string') {
    const session = sessions.verify(token);
    const accessKey = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const decision =
      'invalid' in session
        ? { allowed: false as const, reason: session.invalid }
        : session.accessKeyId !== accessKey
          ? { allowed: false as const, reason: 'access key does not belong to the session' }
          : decideDataAccess(action, JSON.parse(body.toString('utf8') || '{}'), session, dataTable);
    if (!decision.allowed) {
      count(`denied:dynamodb:${action}`);
      const who = 'invalid' in session ? 'unknown session' : session.sessionName;
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazon.coral.service#AccessDeniedException',
          message: `User: assumed-role/${who} is not authorized to perform: dynamodb:${action} (${decision.reason})`,
        }),
      );
      return;
    }
  }
  const upstream = await fetch(dynamodbUrl, {
    method: 'POST',
    headers: {
      'content-type': req.headers['content-type'] ?? 'application/x-amz-json-1.0',
      'x-amz-target': req.headers['x-amz-target'] as string,
      authorization: req.headers.authorization ?? '',
      'x-amz-date': (req.headers['x-amz-date'] as string) ?? '',
    },
    body: new Uint8Array(body),
  });
  const headers: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (!['connection', 'transfer-encoding', 'content-length', 'keep-alive'].includes(name)) {
      headers[name] = value;
    }
  });
  res.writeHead(upstream.status, headers);
  res.end(Buffer.from(await upstream.arrayBuffer()));
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
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ service: 'aws', port })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
