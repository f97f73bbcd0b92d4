import { createHash, randomBytes } from 'node:crypto';
import { LOCAL_COGNITO_CLIENT_ID } from '../../local/harness.js';
import { harness } from './mcp.js';
import { inbox } from './stand-in.js';

/** The local Managed Login pages and token endpoint, driven as a browser and a client would. */

/** The one callback URL of the one app client: the authorization façade's. */
export const REDIRECT = () => `${harness().gatewayUrl}/oauth/callback`;
export const CLIENT_ID = LOCAL_COGNITO_CLIENT_ID;
export const PASSWORD = 'Correct-Horse-Battery-9';
export const issuer = () => harness().issuerUrl;
export const post = (path: string, fields: Record<string, string>) =>
  fetch(`${issuer()}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function flow(challenge: string, overrides: Record<string, string> = {}) {
  return {
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT(),
    response_type: 'code',
    scope: 'openid email mcp/invoke',
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
}

/** Signs up through the pages and confirms with the code the stand-in "e-mailed". */
export async function signUpThroughPages(email: string, organization: string, challenge: string) {
  const signUp = await post('/signup', {
    ...flow(challenge),
    email,
    password: PASSWORD,
    organization,
  });
  const page = await signUp.clone().text();
  if (!page.includes('Confirm your e-mail')) throw new Error(`sign-up refused: ${page}`);
  const code = /(\d{6})/.exec((await inbox(email)) ?? '')?.[1] as string;
  const session = /name="session" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const confirmed = await post('/confirm', { ...flow(challenge), email, code, session });
  // Managed Login signs the person in at once, and the first sign-in succeeds: the pre-token
  // trigger waits for the new organisation's provisioning.
  if (confirmed.status !== 302) {
    throw new Error(`confirmation refused: ${confirmed.status} ${await confirmed.clone().text()}`);
  }
  return confirmed;
}

export async function authorizationCode(email: string, password: string, challenge: string) {
  const response = await post('/oauth2/authorize', { ...flow(challenge), email, password });
  return { response, location: response.headers.get('location') };
}

/** Signs in as a person would right after signing up: a code, on the first try. */
export async function authorizationCodeAtOnce(email: string, password: string, challenge: string) {
  const { response, location } = await authorizationCode(email, password, challenge);
  if (!location) throw new Error(`sign-in refused: ${await response.clone().text()}`);
  return location;
}

/** Signs in with the password and redeems the code: the tokens a client holds afterwards. */
export async function signInForTokens(email: string, password = PASSWORD) {
  const { verifier, challenge } = pkce();
  const code = new URL(await authorizationCodeAtOnce(email, password, challenge)).searchParams.get(
    'code',
  ) as string;
  const response = await post('/oauth2/token', {
    grant_type: 'authorization_code',
    client_id: CLIENT_ID,
    code,
    redirect_uri: REDIRECT(),
    code_verifier: verifier,
  });
  if (response.status !== 200) throw new Error(`token exchange: ${await response.text()}`);
  return (await response.json()) as { access_token: string; refresh_token: string };
}

/** A refresh at the token endpoint: its status and body. */
export async function refresh(refreshToken: string) {
  const response = await post('/oauth2/token', {
    grant_type: 'refresh_token',
    client_id: CLIENT_ID,
    refresh_token: refreshToken,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
