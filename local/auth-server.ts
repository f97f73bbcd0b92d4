/**
 * A local token issuer that plays Cognito's part for local runs and tests: it serves its
 * signing keys as JWKS and an OpenID configuration, and mints Cognito-shaped access and ID
 * tokens whose tenant claims come from the real pre-token-generation handler reading the
 * local registry. Prints `{"service":"auth","port":N,"issuer":URL}` when listening.
 *
 *   tsx local/auth-server.ts [--port 0] [--client-id local-mcp-client] [--scope mcp/invoke]
 *
 * `POST /local/tokens` with `{ "sub": "...", "email": "..." }` returns tokens as Cognito would
 * after sign-in (403 when the pre-token handler refuses). For the authorizer's tests it also
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
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { z } from 'zod';
import { lambdaContext } from './lambda-context.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string', default: 'local-mcp-client' },
    scope: { type: 'string', default: 'mcp/invoke' },
  },
});

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const kid = randomUUID();
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
const { handler: preTokenGeneration } = await import('../lambda/pre-token-generation/index.js');
const cognito = new CognitoIdentityProviderClient({});
const userPoolId = process.env.USER_POOL_ID ?? 'us-east-1_local';

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

const server = createServer((req, res) => {
  route(req, res).catch((error: Error) => {
    process.stderr.write(`auth-server: ${error.stack ?? error.message}\n`);
    send(res, 500, { error: 'server_error' });
  });
});

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', issuer).pathname;
  if (req.method === 'GET' && path === '/.well-known/jwks.json') return send(res, 200, jwks);
  if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
    return send(res, 200, {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile', values.scope],
    });
  }
  if (req.method === 'POST' && path === '/local/tokens') return mint(req, res);
  send(res, 404, { error: 'not_found' });
}

async function mint(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = MintRequest.safeParse(JSON.parse((await readBody(req)) || '{}'));
  if (!parsed.success) return send(res, 400, { error: 'invalid_request' });
  const input = parsed.data;
  // Like Cognito, issue tokens only to an existing, enabled user of the pool.
  const user = await cognito
    .send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: input.sub }))
    .catch((error: Error) => {
      if (error.name === 'UserNotFoundException') return undefined;
      throw error;
    });
  if (!user)
    return send(res, 403, { error: 'access_denied', error_description: 'User does not exist.' });
  if (!user.Enabled)
    return send(res, 403, { error: 'access_denied', error_description: 'User is disabled.' });
  const email =
    input.email ??
    user.UserAttributes?.find((a) => a.Name === 'email')?.Value ??
    `${input.sub}@example.com`;
  const event = {
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'us-east-1',
    userPoolId: 'local',
    userName: input.sub,
    callerContext: { awsSdkVersion: 'local', clientId: input.clientId },
    request: {
      userAttributes: { sub: input.sub, email, email_verified: 'true' },
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [] },
      scopes: input.scope.split(' '),
    },
    response: { claimsAndScopeOverrideDetails: {} },
  } as PreTokenGenerationV2TriggerEvent;

  let shaped: PreTokenGenerationV2TriggerEvent;
  try {
    shaped = await preTokenGeneration(event, lambdaContext('pre-token-generation', 5_000));
  } catch (error) {
    // Cognito answers a refused trigger with an error naming the trigger and its message.
    return send(res, 403, {
      error: 'access_denied',
      error_description: `PreTokenGeneration failed with error ${(error as Error).message}`,
    });
  }
  const details = shaped.response.claimsAndScopeOverrideDetails;
  const now = Math.floor(Date.now() / 1000);
  const common = { sub: input.sub, iss: issuer, auth_time: now, origin_jti: randomUUID() };
  const access = {
    ...common,
    token_use: 'access',
    client_id: input.clientId,
    scope: input.scope,
    username: input.sub,
    ...details.accessTokenGeneration?.claimsToAddOrOverride,
  };
  const id = {
    ...common,
    token_use: 'id',
    aud: input.clientId,
    email,
    email_verified: true,
    'cognito:username': input.sub,
    ...details.idTokenGeneration?.claimsToAddOrOverride,
  };
  const sign = (claims: JWTPayload) => {
    const payload: JWTPayload = { ...claims, ...input.claims };
    for (const name of input.omitClaims) delete payload[name];
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + input.expiresIn);
    if (input.notBeforeIn !== undefined) jwt.setNotBefore(now + input.notBeforeIn);
    return jwt.sign(privateKey);
  };
  send(res, 200, {
    access_token: await sign(access),
    id_token: await sign(id),
    token_type: 'Bearer',
    expires_in: input.expiresIn,
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

server.on('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(`auth-server: cannot listen: ${error.message}\n`);
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
