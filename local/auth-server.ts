/**
 * The local authorization server, playing Cognito's part for local runs and tests: JWKS,
 * OAuth and OpenID metadata, the authorization endpoint with sign-in, sign-up and
 * confirmation pages, and the token endpoint (authorization code + PKCE S256, refresh tokens),
 * minting Cognito-shaped access and ID tokens whose tenant claims come from the real
 * pre-token-generation handler. Prints `{"service":"auth","port":N,"issuer":URL}` when
 * listening.
 *
 *   tsx local/auth-server.ts [--port 0] [--client-id local-facade] [--scope mcp/invoke]
 *     [--redirect-uri URI ...] [--mint-tokens] [--sign-up-rate-limit N]
 *
 * The sign-up form's posts pass the web ACL's sign-up rule first (local/stand-ins/waf.ts), per
 * source address, as WAF counts Managed Login's; `--sign-up-rate-limit` raises the limit.
 *
 * Like the user pool, it has one app client, the authorization façade's, whose callback URLs
 * are set when the façade's address is known: `POST /local/app-client` with
 * `{ "callbackUrls": [...] }` (the harness does it, as the CDK app configures the client).
 *
 * With `--mint-tokens` (tests, benchmarks and `npm run dev -- --seed` only; 404 otherwise),
 * `POST /local/tokens` with `{ "sub": "...", "email": "..." }` returns tokens as Cognito would
 * after sign-in, with no password asked (403 when the pre-token handler refuses). User ids are
 * visible to other members (`createdBy`), so this is a way into any account for whoever can
 * reach 127.0.0.1: it is off unless asked for, listens on loopback only, takes JSON only and
 * sends no CORS headers (no web page can call it). For the authorizer's tests it also
 * takes `clientId`, `scope`, `expiresIn`, `notBeforeIn`, `claims` (added or overridden) and
 * `omitClaims`: a local key can sign anything, which is the point of a test issuer.
 *
 * Tokens go only to existing, enabled users of the (stand-in) user pool. The handler needs the
 * usual environment: AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER,
 * REGISTRY_TABLE_NAME, USER_POOL_ID.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { exportJWK, generateKeyPair } from 'jose';
import * as z from 'zod';
import { loadHandler } from './function-environment.js';
import {
  AuthorizationServer,
  BodyTooLarge,
  boundedBody,
  MAX_FORM_BYTES,
} from './oauth/authorization-server.js';
import { TokenIssuer } from './oauth/token-issuer.js';
import { RateBasedRule, signUpRate } from './stand-ins/waf.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string', default: 'local-facade' },
    scope: { type: 'string', default: 'mcp/invoke' },
    /** A callback URL of the app client; repeat for more. */
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'mint-tokens': { type: 'boolean', default: false },
    /** Sign-up form posts one source address may make in the rule's window. */
    'sign-up-rate-limit': { type: 'string' },
  },
});

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const kid = randomUUID();
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
const { handler: preTokenGeneration } = await loadHandler(
  'pre-token-generation',
  () => import('../lambda/pre-token-generation/index.js'),
);
const cognito = new CognitoIdentityProviderClient({});
// The pages' own calls: Managed Login is part of the user pool, and WAF counted the page's post
// (the rule below), so the stand-in takes these without counting them again.
const managedLoginCognito = new CognitoIdentityProviderClient({
  endpoint: `${process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER}/__stand-in/managed-login/`,
});
const userPoolId = process.env.USER_POOL_ID ?? 'us-east-1_local';

const AppClientUpdate = z.object({ callbackUrls: z.array(z.url()).min(1) });

const MintRequest = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  clientId: z.string().default(values['client-id']),
  scope: z.string().default(`openid email ${values.scope}`),
  expiresIn: z.number().int().default(3600),
  notBeforeIn: z.number().int().optional(),
  claims: z.record(z.string(), z.unknown()).default({}),
  omitClaims: z.array(z.string()).default([]),
});

let issuer = '';
const redirectUris = [...values['redirect-uri']];
const tokens = new TokenIssuer({
  issuer: () => issuer,
  privateKey,
  kid,
  cognito,
  userPoolId,
  preTokenGeneration,
});
const authorization = new AuthorizationServer({
  issuer: () => issuer,
  clientId: values['client-id'],
  redirectUris,
  scope: values.scope,
  // The pool's one resource server, whose identifier prefixes the scope (`mcp/invoke`).
  resourceServers: [values.scope.split('/')[0] as string],
  tokens,
  cognito: managedLoginCognito,
  signUpRule: new RateBasedRule(signUpRate(values['sign-up-rate-limit'])),
  signIn: async (email, password, newPassword) => {
    const response = await fetch(
      `${process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER}/__stand-in/sign-in`,
      { method: 'POST', body: JSON.stringify({ username: email, password, newPassword }) },
    );
    return response.json() as Promise<{ sub: string } | { error: string; message: string }>;
  },
  refreshable: async (sub, issuedAt) => {
    const response = await fetch(
      `${process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER}/__stand-in/refreshable`,
      { method: 'POST', body: JSON.stringify({ sub, issuedAt }) },
    );
    return ((await response.json()) as { refreshable: boolean }).refreshable;
  },
});

/** How much of a refused body is read and dropped before the connection is cut. */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * 413 for a body over the limit, bounded like a service's front end: nothing of it is kept.
 * The rest is read and dropped first and the answer sent once the client has finished sending,
 * so the client reads the 413 instead of a connection reset under its write; a body past
 * DRAIN_LIMIT_BYTES is answered at once and the connection cut.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  const answer = (cut: boolean) => {
    if (res.headersSent) return;
    if (cut) res.setHeader('connection', 'close');
    send(res, 413, { error: 'invalid_request' });
    if (cut) req.destroy();
  };
  if (req.readableEnded) {
    answer(false);
    return;
  }
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT_BYTES) answer(true);
  });
  req.on('end', () => answer(false));
  req.resume();
}

const server = createServer((req, res) => {
  route(req, res).catch((error: Error) => {
    if (error instanceof BodyTooLarge) {
      refuseTooLarge(req, res);
      return;
    }
    process.stderr.write(`auth-server: ${error.stack ?? error.message}\n`);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
    else res.end();
  });
});

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', issuer).pathname;
  if (req.method === 'GET' && path === '/.well-known/jwks.json') return send(res, 200, jwks);
  if (req.method === 'POST' && path === '/local/tokens' && values['mint-tokens']) {
    return mint(req, res);
  }
  if (req.method === 'POST' && path === '/local/app-client') return updateAppClient(req, res);
  if (await authorization.handle(req, res, path)) return;
  send(res, 404, { error: 'not_found' });
}

/** Test and demo tokens without the browser flow (see the header comment). */
async function mint(req: IncomingMessage, res: ServerResponse): Promise<void> {
  // JSON only, and no CORS on this route: no web page can make the browser call it.
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return send(res, 415, { error: 'invalid_request' });
  }
  const parsed = MintRequest.safeParse(JSON.parse((await readBody(req)) || '{}'));
  if (!parsed.success) return send(res, 400, { error: 'invalid_request' });
  const result = await tokens.issue({
    ...parsed.data,
    triggerSource: 'TokenGeneration_Authentication',
  });
  if (!result.ok)
    return send(res, 403, { error: 'access_denied', error_description: result.description });
  send(res, 200, result.tokens);
}

/** Sets the app client's callback URLs, as UpdateUserPoolClient would (JSON only, no CORS). */
async function updateAppClient(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return send(res, 415, { error: 'invalid_request' });
  }
  const parsed = AppClientUpdate.safeParse(JSON.parse((await readBody(req)) || '{}'));
  if (!parsed.success) return send(res, 400, { error: 'invalid_request' });
  redirectUris.splice(0, redirectUris.length, ...parsed.data.callbackUrls);
  send(res, 200, { callbackUrls: redirectUris });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return boundedBody(req, MAX_FORM_BYTES);
}

server.on('error', (error: NodeJS.ErrnoException) => {
  const reason =
    error.code === 'EADDRINUSE' ? `port ${values.port} is already in use` : error.message;
  process.stderr.write(`auth-server: cannot listen: ${reason}\n`);
  process.exit(1);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ service: 'auth', port, issuer })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
