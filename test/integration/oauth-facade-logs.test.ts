import { createHash, randomBytes } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_CLIENT_ID } from '../../local/harness.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { proxyEvent } from '../../local/proxy-event.js';
import { completeInBrowser } from '../support/browser-flow.js';
import { harness, mcpUrl } from '../support/mcp.js';
import { localStack } from '../support/oauth-client.js';
import { uniqueTenantId } from '../support/registry.js';

// The real façade handler in this process, logging at DEBUG, its output captured.
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
type Handler = (
  event: ReturnType<typeof proxyEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;
let facade: Handler;
const lines: string[] = [];
// A loopback port of the pre-registered client's redirect URI (any port matches, RFC 8252).
const REDIRECT = 'http://127.0.0.1:48100/oauth/callback';

beforeAll(async () => {
  facade = (await import('../../lambda/authorization-server/index.js')).handler as Handler;
  // Powertools writes warnings and errors to stderr, the rest to stdout.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
});
afterAll(() => vi.restoreAllMocks());

/** One request to the façade as API Gateway would deliver it. */
async function call(
  method: string,
  pathAndQuery: string,
  options: { form?: Record<string, string>; cookie?: string } = {},
) {
  const url = new URL(pathAndQuery, 'http://127.0.0.1');
  const resource = url.pathname;
  const result = await facade(
    proxyEvent(
      {
        method,
        url,
        rawHeaders: [
          ...(options.form ? ['Content-Type', 'application/x-www-form-urlencoded'] : []),
          ...(options.cookie ? ['Cookie', options.cookie] : []),
        ],
        body: Buffer.from(options.form ? new URLSearchParams(options.form).toString() : ''),
        sourceIp: '127.0.0.1',
      },
      resource,
      null,
    ),
    lambdaContext('authorization-server'),
  );
  return { ...result, headers: (result.headers ?? {}) as Record<string, string> };
}

describe('authorization façade logs', () => {
  it('carry no code, token, verifier, cookie or state of a whole sign-in, refresh and replay', async () => {
    const org = uniqueTenantId('facade-logs');
    const verifier = randomBytes(32).toString('base64url');
    const state = `state-${randomBytes(8).toString('hex')}`;
    const page = await call(
      'GET',
      `/oauth/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: LOCAL_CLIENT_ID,
        redirect_uri: REDIRECT,
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        resource: mcpUrl(),
      })}`,
    );
    const cookie = (page.headers['set-cookie'] ?? '').split(';')[0] as string;
    const transaction = /name="transaction" value="([^"]+)"/.exec(page.body)?.[1] as string;
    const approved = await call('POST', '/oauth/consent', {
      form: { transaction, decision: 'allow' },
      cookie,
    });
    const cognito = await completeInBrowser(
      approved.headers.location as string,
      { email: `founder@${org}.example`, password: 'Correct-Horse-Battery-9', signUpAs: org },
      localStack([harness().issuerUrl]),
    );
    const upstreamCode = cognito.redirect.searchParams.get('code') as string;
    const callback = await call('GET', `/oauth/callback${cognito.redirect.search}`, { cookie });
    const code = new URL(callback.headers.location as string).searchParams.get('code') as string;
    const exchange = (fields: Record<string, string>) =>
      call('POST', '/oauth/token', { form: { client_id: LOCAL_CLIENT_ID, ...fields } });
    const tokens = JSON.parse(
      (
        await exchange({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT,
          code_verifier: verifier,
        })
      ).body,
    ) as { access_token: string; refresh_token: string };
    const refreshed = JSON.parse(
      (await exchange({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body,
    ) as { access_token: string; refresh_token: string };
    const replay = await exchange({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });

    expect(refreshed.access_token).toBeTruthy();
    expect(JSON.parse(replay.body)).toMatchObject({ error: 'invalid_grant' });
    const secrets = [
      code,
      upstreamCode,
      verifier,
      state,
      transaction,
      cookie.split('=')[1] as string,
      tokens.access_token,
      tokens.refresh_token,
      refreshed.access_token,
      refreshed.refresh_token,
    ];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    // And what is logged says what happened.
    for (const event of [
      'asking for consent',
      'Consent answered',
      'Sign-in completed',
      'Tokens issued',
    ]) {
      expect(lines.some((line) => line.includes(event))).toBe(true);
    }
    expect(lines.some((line) => line.includes('Authorization code replayed'))).toBe(true);
  });
});
