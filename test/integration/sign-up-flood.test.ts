import { Agent, request as httpRequest } from 'node:http';
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SignUpCap,
  signUpCounterKey,
  signUpDay,
} from '../../lambda/shared/lifecycle/sign-up-cap.js';
import {
  SIGN_UP_LIMITS,
  SIGN_UP_PAUSED_MESSAGE,
  SIGN_UP_RATE_LIMITED_MESSAGE,
} from '../../lambda/shared/lifecycle/sign-up-limits.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { Invitations } from '../../lambda/shared/registry/invitations.js';
import { TenantRegistry } from '../../lambda/shared/registry/registry.js';
import { type Harness, LOCAL_COGNITO_CLIENT_ID, startHarness } from '../../local/harness.js';
import { LOCAL_TABLE_NAMES } from '../../local/tables.js';
import { acceptInvitation } from '../support/invitations.js';
import { uniqueTenantId } from '../support/registry.js';

/**
 * A sign-up flood against a local stack of its own, with the web ACL's per-source limit as
 * deployed (10 per 5 minutes) and a small daily cap. Sources are loopback addresses: Linux
 * routes all of 127/8 to loopback, so a client bound to 127.0.0.N reaches the stack (listening
 * on 127.0.0.1) as peer 127.0.0.N, the address the rule counts.
 */
const DAILY_CAP = 16;
const PASSWORD = 'Correct-Horse-Battery-9';
const SOURCES = {
  flood: '127.0.0.2',
  genuine: '127.0.0.3',
  pagesFlood: '127.0.0.4',
  pagesGenuine: '127.0.0.5',
  invited: '127.0.0.6',
  /** Addresses for the sign-ups that fill the day, up to the per-source limit each. */
  fillers: ['127.0.0.10', '127.0.0.11', '127.0.0.12'],
} as const;

let harness: Harness;
const savedEnv = { ...process.env };
const db = () => createDocumentClient();
const registry = () => new TenantRegistry(db(), LOCAL_TABLE_NAMES.registry);

const clients: CognitoIdentityProviderClient[] = [];
/** The Cognito API as seen from one source address, without retries (every try is counted). */
function cognitoFrom(source: string): CognitoIdentityProviderClient {
  const client = new CognitoIdentityProviderClient({
    endpoint: harness.awsUrl,
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ localAddress: source, keepAlive: true }) },
  });
  clients.push(client);
  return client;
}

const signUp = (cognito: CognitoIdentityProviderClient, email: string, invitation?: string) =>
  cognito.send(
    new SignUpCommand({
      ClientId: LOCAL_COGNITO_CLIENT_ID,
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: 'email', Value: email }],
      ...(invitation ? { ClientMetadata: { invitation } } : {}),
    }),
  );

/** A form post from one source address: its status, body and content type. */
function postForm(url: string, fields: Record<string, string>, source: string) {
  const body = new URLSearchParams(fields).toString();
  return new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        localAddress: source,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            type: String(res.headers['content-type'] ?? ''),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const standIn = async <T>(path: string) =>
  (await (await fetch(`${harness.awsUrl}/__stand-in/${path}`)).json()) as T;
const inbox = async (email: string) =>
  (await standIn<{ message: string | null }>(`inbox/${encodeURIComponent(email)}`)).message;

/** What a sign-up could cost: keys, API keys, secrets, provisioning messages, tenants. */
async function costlyThings() {
  const stats = await standIn<Record<string, number>>('stats');
  const calls = (prefix: string) =>
    Object.entries(stats)
      .filter(([action]) => action.startsWith(prefix))
      .reduce((sum, [, n]) => sum + n, 0);
  return {
    kmsKeys: calls('kms:CreateKey'),
    apiKeys: calls('apigateway:POST /apikeys'),
    secrets: calls('secretsmanager:CreateSecret'),
    provisioningMessages: calls('sqs:SendMessage'),
    tenants: (await registry().listTenants()).length,
  };
}

/** The day's self sign-ups, as the pre-sign-up trigger counted them. */
async function countedToday(): Promise<number> {
  const { Item } = await db().send(
    new GetCommand({
      TableName: LOCAL_TABLE_NAMES.usage,
      Key: signUpCounterKey(signUpDay(new Date())),
      ConsistentRead: true,
    }),
  );
  return Number(Item?.signUps ?? 0);
}

/** Waits past UTC midnight if it is near, so a test's counts all fall on one day. */
async function clearOfMidnight(marginMs = 30_000): Promise<void> {
  const now = Date.now();
  const next = Math.ceil(now / 86_400_000) * 86_400_000;
  if (next - now < marginMs) await new Promise((resolve) => setTimeout(resolve, next - now + 100));
}

async function untilTenantActive(sub: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const membership = await registry().getMembership(sub);
    const tenant = membership && (await registry().getTenant(membership.tenantId));
    if (tenant?.status === 'ACTIVE') return tenant;
    if (Date.now() > deadline) throw new Error(`no active tenant for ${sub}: ${tenant?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  harness = await startHarness({ logLevel: 'SILENT', signUpDailyCap: DAILY_CAP });
  // This file's clients and production modules talk to this stack, not the shared one.
  Object.assign(process.env, harness.env);
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await harness?.stop();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

describe('a sign-up flood from one address', () => {
  it('is refused past the rate with a clear message, creates nothing that costs, and does not stop a genuine sign-up from another address', async () => {
    await clearOfMidnight();
    const before = await costlyThings();
    const countedBefore = await countedToday();
    const flood = cognitoFrom(SOURCES.flood);
    const genuine = cognitoFrom(SOURCES.genuine);
    const domain = uniqueTenantId('flood');
    const genuineEmail = `founder@${uniqueTenantId('genuine')}.example`;

    // 25 scripted sign-ups at once, and a person's sign-up from elsewhere in the middle of them.
    const [floodOutcomes, person] = await Promise.all([
      Promise.allSettled(
        Array.from({ length: 25 }, (_, i) => signUp(flood, `bot-${i}@${domain}.example`)),
      ),
      signUp(genuine, genuineEmail),
    ]);
    const admitted = floodOutcomes.filter((o) => o.status === 'fulfilled');
    const refused = floodOutcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    const stats = await standIn<Record<string, number>>('stats');
    const after = await costlyThings();

    // (a) Past the limit, each is refused before Cognito, with the web ACL's answer.
    expect(admitted).toHaveLength(SIGN_UP_LIMITS.perSource.limit);
    expect(refused).toHaveLength(25 - SIGN_UP_LIMITS.perSource.limit);
    for (const error of refused) {
      expect(error).toMatchObject({
        name: 'ForbiddenException',
        message: SIGN_UP_RATE_LIMITED_MESSAGE,
        $metadata: { httpStatusCode: 429 },
      });
    }
    expect(stats['waf:blocked:SignUp']).toBe(15);
    // (b) Ten accounts wait unconfirmed; none has a key, an API key, a secret or a tenant.
    expect(after).toEqual(before);
    expect(await countedToday()).toBe(countedBefore + 11);

    // (c) The person, at another address, confirms and gets an organisation.
    expect(person.UserConfirmed).toBe(false);
    const code = /(\d{6})/.exec((await inbox(genuineEmail)) ?? '')?.[1];
    await genuine.send(
      new ConfirmSignUpCommand({
        ClientId: LOCAL_COGNITO_CLIENT_ID,
        Username: genuineEmail,
        ConfirmationCode: code,
      }),
    );
    const tenant = await untilTenantActive(person.UserSub as string);
    expect(tenant.ownerSub).toBe(person.UserSub);
    // The flooding address is still refused, the person's is not.
    await expect(signUp(flood, `bot-late@${domain}.example`)).rejects.toMatchObject({
      name: 'ForbiddenException',
    });
  }, 60_000);

  it('is refused at the Managed Login sign-up form too, per address, with the same answer', async () => {
    const pages = harness.issuerUrl;
    const flow = {
      client_id: LOCAL_COGNITO_CLIENT_ID,
      redirect_uri: `${harness.gatewayUrl}/oauth/callback`,
      response_type: 'code',
      scope: 'openid email mcp/invoke',
      state: 'flood',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    };
    const countedBefore = await countedToday();
    // Weak passwords: the rule counts the posts; Cognito refuses them before any trigger.
    const posts = [];
    for (let i = 0; i < 11; i += 1) {
      posts.push(
        await postForm(
          `${pages}/signup`,
          { ...flow, email: `page-bot-${i}@${uniqueTenantId('pages')}.example`, password: 'weak' },
          SOURCES.pagesFlood,
        ),
      );
    }
    const person = await postForm(
      `${pages}/signup`,
      {
        ...flow,
        email: `person@${uniqueTenantId('pages-person')}.example`,
        password: PASSWORD,
        organization: 'Pages Person Org',
      },
      SOURCES.pagesGenuine,
    );

    expect(posts.slice(0, 10).map((p) => p.status)).toEqual(Array(10).fill(200));
    expect(posts[0]?.body).toMatch(/Password did not conform/);
    expect(posts[10]).toMatchObject({ status: 429, type: 'application/json' });
    expect(JSON.parse(posts[10]?.body ?? '{}')).toMatchObject({
      message: SIGN_UP_RATE_LIMITED_MESSAGE,
    });
    expect(person.status).toBe(200);
    expect(person.body).toContain('Confirm your e-mail');
    // Only the person's sign-up reached the trigger's count.
    expect(await countedToday()).toBe(countedBefore + 1);
  });
});

describe("the façade's invitation page", () => {
  it('shows the rate message when the façade shares an address that is over the limit', async () => {
    // On AWS the façade's SignUp calls come from Lambda's addresses, which WAF counts like any
    // other; here, from the gateway's 127.0.0.1. Ten refused sign-ups fill that address's window.
    const neighbour = cognitoFrom('127.0.0.1');
    for (let i = 0; i < SIGN_UP_LIMITS.perSource.limit; i += 1) {
      await neighbour
        .send(
          new SignUpCommand({
            ClientId: LOCAL_COGNITO_CLIENT_ID,
            Username: `neighbour-${i}@${uniqueTenantId('neighbour')}.example`,
            Password: 'weak',
          }),
        )
        .catch(() => undefined);
    }
    const tenantId = uniqueTenantId('busy');
    await registry().createTenant({ tenantId, name: 'Busy', tier: 'free', status: 'ACTIVE' });
    const email = `hire@${tenantId}.example`;
    const { code } = await new Invitations(db(), LOCAL_TABLE_NAMES.registry).create(
      tenantId,
      email,
      'member',
    );

    const outcome = await acceptInvitation(
      `${harness.gatewayUrl}/invitations?code=${encodeURIComponent(code)}`,
      { email, password: PASSWORD },
      inbox,
    );

    expect(outcome.error).toBe(SIGN_UP_RATE_LIMITED_MESSAGE);
  });
});

describe('the daily cap on self sign-ups', () => {
  it('refuses self sign-ups past the cap with a clear message, and counts no invited one', async () => {
    await clearOfMidnight();
    const counted = await countedToday();
    expect(counted).toBeLessThan(DAILY_CAP);
    const fill = DAILY_CAP - counted;
    expect(fill).toBeLessThanOrEqual(SOURCES.fillers.length * SIGN_UP_LIMITS.perSource.limit);
    const domain = uniqueTenantId('fill');
    for (let i = 0; i < fill; i += 1) {
      const source = SOURCES.fillers[Math.floor(i / SIGN_UP_LIMITS.perSource.limit)] as string;
      await signUp(cognitoFrom(source), `person-${i}@${domain}.example`);
    }
    const last = SOURCES.fillers[SOURCES.fillers.length - 1] as string;

    const pastCap = signUp(cognitoFrom(last), `one-too-many@${domain}.example`);
    await expect(pastCap).rejects.toMatchObject({
      name: 'UserLambdaValidationException',
      message: `PreSignUp failed with error ${SIGN_UP_PAUSED_MESSAGE}.`,
    });
    const countedAtCap = await countedToday();

    // An invited person still signs up: the invitation, not the cap, decides.
    const tenantId = uniqueTenantId('inviter');
    await registry().createTenant({ tenantId, name: 'Inviter', tier: 'free', status: 'ACTIVE' });
    const email = `hire@${tenantId}.example`;
    const { code } = await new Invitations(db(), LOCAL_TABLE_NAMES.registry).create(
      tenantId,
      email,
      'member',
    );
    const invited = await signUp(cognitoFrom(SOURCES.invited), email, code);

    expect(countedAtCap).toBe(DAILY_CAP + 1);
    expect(invited.UserSub).toBeTruthy();
    expect(await countedToday()).toBe(countedAtCap);
    // A forged invitation is no way around the cap: refused by the invitation check.
    await expect(
      signUp(cognitoFrom(SOURCES.invited), `forger@${domain}.example`, `${tenantId}.0.x`),
    ).rejects.toMatchObject({ name: 'UserLambdaValidationException' });
  }, 60_000);

  it('starts again at 00:00 UTC: a counter per day, read and written atomically', async () => {
    let now = new Date('2099-12-31T23:59:59.998Z');
    const cap = new SignUpCap(db(), LOCAL_TABLE_NAMES.usage, 2, () => now);

    const lastDay = [await cap.take(), await cap.take(), await cap.take()];
    now = new Date('2100-01-01T00:00:00.000Z');
    const nextDay = await cap.take();
    // Twenty at once on a fresh day: exactly the cap's number get through.
    now = new Date('2100-01-02T12:00:00.000Z');
    const burst = await Promise.all(
      Array.from({ length: 20 }, () =>
        new SignUpCap(db(), LOCAL_TABLE_NAMES.usage, 7, () => now).take(),
      ),
    );
    const { Item } = await db().send(
      new GetCommand({
        TableName: LOCAL_TABLE_NAMES.usage,
        Key: signUpCounterKey('2099-12-31'),
      }),
    );

    expect(lastDay.map((d) => [d.day, d.count, d.allowed])).toEqual([
      ['2099-12-31', 1, true],
      ['2099-12-31', 2, true],
      ['2099-12-31', 3, false],
    ]);
    expect(nextDay).toEqual({ day: '2100-01-01', count: 1, allowed: true });
    expect(burst.filter((d) => d.allowed)).toHaveLength(7);
    expect(burst.map((d) => d.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(Item).toMatchObject({
      signUps: 3,
      expiresAt: Date.parse('2100-01-02T00:00:00Z') / 1000,
    });
  });

  it('lets a sign-up through, logged, when the counter cannot be reached (fail open)', async () => {
    const { checkSignUp } = await import('../../lambda/pre-sign-up/index.js');
    const unreachable = createDocumentClient({
      endpoint: 'http://127.0.0.1:9',
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 500, requestTimeout: 500 },
    });
    const event = {
      version: '1',
      triggerSource: 'PreSignUp_SignUp',
      region: 'us-east-1',
      userPoolId: 'us-east-1_local',
      userName: 'someone',
      callerContext: { awsSdkVersion: 'test', clientId: LOCAL_COGNITO_CLIENT_ID },
      request: { userAttributes: { email: 'someone@example.com' } },
      response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
    } as PreSignUpTriggerEvent;
    const full = new SignUpCap(db(), LOCAL_TABLE_NAMES.usage, 1, () => new Date('2098-01-01'));
    await full.take();
    const deps = (cap: SignUpCap) => ({
      invitations: new Invitations(db(), LOCAL_TABLE_NAMES.registry),
      registry: registry(),
      cap,
    });

    await expect(
      checkSignUp(event, deps(new SignUpCap(unreachable, LOCAL_TABLE_NAMES.usage, 1))),
    ).resolves.toBe(event);
    await expect(checkSignUp(event, deps(full))).rejects.toThrow(SIGN_UP_PAUSED_MESSAGE);
  });
});
