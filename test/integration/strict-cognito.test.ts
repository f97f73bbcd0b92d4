import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, it } from 'vitest';
import { localAdmin } from '../support/admin.js';
import {
  authorizationCode,
  CLIENT_ID,
  flow,
  PASSWORD,
  pkce,
  post,
  refresh,
  signInForTokens,
  signUpThroughPages,
} from '../support/managed-login.js';
import { seedTenant } from '../support/mcp.js';
import { localRegistry, uniqueTenantId } from '../support/registry.js';
import { inbox } from '../support/stand-in.js';

/**
 * The local user pool and sign-in pages refuse what Cognito refuses (issue 16): a stand-in that
 * is kinder than Cognito hides defects.
 */
const cognito = new CognitoIdentityProviderClient({});
const codeIn = async (email: string) => /(\d{6})/.exec((await inbox(email)) ?? '')?.[1] as string;
const confirm = (email: string, code: string) =>
  cognito.send(
    new ConfirmSignUpCommand({ ClientId: CLIENT_ID, Username: email, ConfirmationCode: code }),
  );

describe('Cognito stand-in: confirmation codes', () => {
  it('spends a code after 5 wrong tries (LimitExceededException), as Cognito does; a new code confirms', async () => {
    const email = `guess@${uniqueTenantId('codes')}.example`;
    await cognito.send(
      new SignUpCommand({
        ClientId: CLIENT_ID,
        Username: email,
        Password: PASSWORD,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    const right = await codeIn(email);
    const wrong = right === '000000' ? '000001' : '000000';

    const tries = [];
    for (let i = 0; i < 5; i++) {
      tries.push(await confirm(email, wrong).catch((error: Error) => error.name));
    }
    const afterLimit = await confirm(email, right).catch((error: Error) => error.name);
    await cognito.send(new ResendConfirmationCodeCommand({ ClientId: CLIENT_ID, Username: email }));
    const fresh = await codeIn(email);

    expect(tries).toEqual([
      'CodeMismatchException',
      'CodeMismatchException',
      'CodeMismatchException',
      'CodeMismatchException',
      'LimitExceededException',
    ]);
    expect(afterLimit).toBe('LimitExceededException');
    await expect(confirm(email, fresh)).resolves.toBeDefined();
  });
});

describe('Cognito stand-in: temporary passwords', () => {
  it('asks a person created by an operator for a new password (NEW_PASSWORD_REQUIRED) before any code', async () => {
    const owner = await seedTenant('temp-password');
    const email = `created@${owner.tenantId}.example`;
    // An operator's AdminCreateUser (Cognito e-mails a temporary password), made a member.
    const { User } = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: process.env.USER_POOL_ID,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    await localRegistry().createMembership({
      userSub: User?.Username as string,
      tenantId: owner.tenantId,
      role: 'member',
      email,
    });
    const temporary = /temporary password (\S+)/.exec((await inbox(email)) ?? '')?.[1] as string;
    const { challenge } = pkce();

    const first = await authorizationCode(email, temporary, challenge);
    const weak = await post('/oauth2/authorize', {
      ...flow(challenge),
      email,
      password: temporary,
      new_password: 'short',
    });
    const changed = await post('/oauth2/authorize', {
      ...flow(challenge),
      email,
      password: temporary,
      new_password: 'A-New-Password-42',
    });
    const withTemporary = await authorizationCode(email, temporary, challenge);

    expect(first.location).toBeNull();
    expect(await first.response.text()).toMatch(/Change your password[\s\S]*name="new_password"/);
    expect(weak.headers.get('location')).toBeNull();
    expect(await weak.text()).toMatch(/Password did not conform with policy/);
    expect(
      new URL(changed.headers.get('location') as string).searchParams.get('code'),
    ).toBeTruthy();
    expect(withTemporary.location).toBeNull();
    await expect(signInForTokens(email, 'A-New-Password-42')).resolves.toHaveProperty(
      'refresh_token',
    );
  });
});

describe('Cognito stand-in: refresh tokens and request bodies', () => {
  it('keeps a refresh token that the pre-token trigger refused once (a suspension), as Cognito does', async () => {
    const organization = uniqueTenantId('Refresh Kept');
    const email = `founder@${uniqueTenantId('refresh-kept')}.example`;
    await signUpThroughPages(email, organization, pkce().challenge);
    const tokens = await signInForTokens(email);
    const tenantId = (await localRegistry().listTenants()).find((t) => t.name === organization)
      ?.tenantId as string;

    await localAdmin().suspend(tenantId);
    const refused = await refresh(tokens.refresh_token);
    await localAdmin().resume(tenantId);
    const after = await refresh(tokens.refresh_token);

    expect(refused.status).toBe(400);
    expect(after.status).toBe(200);
  });

  it('refuses an oversized form body (413) without keeping it', async () => {
    const response = await post('/oauth2/token', {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: 'x'.repeat(1024 * 1024),
    });

    expect(response.status).toBe(413);
  });
});
