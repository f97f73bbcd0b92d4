/**
 * Sign-in as a public OAuth client: authorization code with PKCE (S256), `state`, the issuer
 * checked on the way back (RFC 9207) and the token bound to the MCP endpoint (RFC 8707
 * `resource`). The access token lives in this module only: never in storage, a cookie or a
 * global, so a reload signs out and no other script on the origin finds it lying around.
 */

import { ApiError } from './errors.js';

/** @typedef {import('./config.js').ConsoleConfig} ConsoleConfig */

const VERIFIER_KEY = 'console.pkce.verifier';
const STATE_KEY = 'console.pkce.state';

/** @type {string | null} */
let accessToken = null;

export function token() {
  return accessToken;
}

export function forgetToken() {
  accessToken = null;
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random string of 32 bytes, base64url. */
export function randomToken() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** @param {string} verifier */
async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/**
 * Sends the browser to the authorization server. The verifier and state wait in
 * sessionStorage for the way back only (this tab, removed on return).
 * @param {ConsoleConfig} config
 */
export async function startSignIn(config) {
  const verifier = randomToken();
  const state = randomToken();
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  const url = new URL(config.authorizationEndpoint);
  const params = {
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
    resource: config.mcpUrl,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  location.assign(url.href);
}

/** Whether this page load is the way back from the authorization server. */
export function isSignInReturn() {
  const query = new URLSearchParams(location.search);
  return query.has('code') || query.has('error');
}

/**
 * Completes a sign-in on the way back: checks state and issuer, drops the query from the
 * address bar and history, and exchanges the code for an access token.
 * @param {ConsoleConfig} config
 */
export async function completeSignIn(config) {
  const query = new URLSearchParams(location.search);
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  history.replaceState(null, '', `${location.pathname}${location.hash}`);

  if (!verifier || !expected || query.get('state') !== expected) {
    throw new ApiError('Sign-in failed: the answer does not match this sign-in. Sign in again.');
  }
  if (query.get('iss') !== config.issuer) {
    throw new ApiError('Sign-in failed: the answer came from an unexpected issuer.');
  }
  const error = query.get('error');
  if (error) {
    const reason = error === 'access_denied' ? 'access was denied' : error.slice(0, 80);
    throw new ApiError(`Sign-in failed: ${reason}.`);
  }
  const response = await fetch(config.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.clientId,
      code: query.get('code') ?? '',
      redirect_uri: config.redirectUri,
      code_verifier: verifier,
      resource: config.mcpUrl,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new ApiError('Sign-in failed: the authorization server did not issue a token.');
  }
  accessToken = body.access_token;
}
