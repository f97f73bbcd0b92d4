import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationServer } from '../../local/oauth/authorization-server.js';
import type { TokenIssuer } from '../../local/oauth/token-issuer.js';

const REDIRECT = 'http://localhost:6274/oauth/callback';

/** An authorization server whose codes expire at once, with a sign-in that always succeeds. */
describe('authorization codes expire', () => {
  let server: Server;
  let base: string;
  let issued = 0;

  beforeAll(async () => {
    const authorization = new AuthorizationServer({
      issuer: () => base,
      clientId: 'local-mcp-client',
      redirectUris: [REDIRECT],
      scope: 'mcp/invoke',
      resourceServers: ['mcp'],
      codeTtlSeconds: 0,
      cognito: new CognitoIdentityProviderClient({}),
      signIn: async () => ({ sub: 'user-1' }),
      refreshable: async () => true,
      tokens: {
        check: async () => ({ ok: true }),
        issue: async () => {
          issued += 1;
          return { ok: false, description: 'not expected' };
        },
      } as unknown as TokenIssuer,
    });
    server = createServer((req, res) => {
      void authorization
        .handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)
        .then((handled) => {
          if (!handled) res.writeHead(404).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  it('refuses an expired authorization code with invalid_grant and issues nothing', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      redirect: 'manual' as const,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    const signIn = await fetch(
      `${base}/oauth2/authorize`,
      form({
        client_id: 'local-mcp-client',
        redirect_uri: REDIRECT,
        response_type: 'code',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        email: 'a@b.example',
        password: 'x',
      }),
    );
    const code = new URL(signIn.headers.get('location') as string).searchParams.get(
      'code',
    ) as string;
    await new Promise((resolve) => setTimeout(resolve, 10));

    const exchange = await fetch(
      `${base}/oauth2/token`,
      form({
        grant_type: 'authorization_code',
        client_id: 'local-mcp-client',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }),
    );

    expect(exchange.status).toBe(400);
    expect(await exchange.json()).toMatchObject({ error: 'invalid_grant' });
    expect(issued).toBe(0);
  });
});
