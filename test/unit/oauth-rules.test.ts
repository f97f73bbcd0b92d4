import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  redirectUriMatches,
  redirectUriProblem,
} from '../../lambda/authorization-server/redirect-uris.js';
import {
  digest,
  newSecret,
  pkceMatches,
  seal,
  unseal,
} from '../../lambda/authorization-server/secrets.js';

describe('redirect URIs a client may register', () => {
  it.each([
    'https://claude.ai/api/mcp/auth_callback',
    'http://localhost:6274/oauth/callback',
    'http://127.0.0.1/callback',
    'http://[::1]:33418/',
    'cursor://anysphere.cursor-mcp/oauth/callback',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['http://app.example.com/cb', 'http on a host that is not loopback'],
    ['https://app.example.com/cb#x', 'fragment'],
    ['https://user:pw@app.example.com/cb', 'credentials'],
    ['javascript:alert(1)', 'forbidden scheme'],
    ['data:text/html,<script>', 'forbidden scheme'],
    ['ms-msdt:/id PCWDiagnostic', 'forbidden scheme'],
    ['search-ms:query=x', 'forbidden scheme'],
    ['not a uri', 'not an absolute URI'],
  ])('refuses %s', (uri, reason) => {
    expect(redirectUriProblem(uri)).toContain(reason);
  });
});

describe('redirect URI matching', () => {
  const registered = ['https://app.example.com/cb', 'http://127.0.0.1:8080/callback'];

  it('matches exactly, and a loopback URI on any port (RFC 8252 7.3)', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com/cb')).toBe(true);
    expect(redirectUriMatches(registered, 'http://127.0.0.1:49152/callback')).toBe(true);
  });

  it.each([
    'https://app.example.com/cb/',
    'https://APP.example.com/cb',
    'https://app.example.com/cb?x=1',
    'https://app.example.com:8443/cb',
    'http://localhost:8080/callback',
    'http://127.0.0.1:8080/callback/../other',
    'http://127.0.0.1:8080/callback#x',
    'http://user@127.0.0.1:8080/callback',
    'https://127.0.0.1:8080/callback',
  ])('does not match %s', (requested) => {
    expect(redirectUriMatches(registered, requested)).toBe(false);
  });
});

describe('codes and their sealed tokens', () => {
  it('opens sealed tokens only with the code they were sealed under', () => {
    const code = newSecret();
    const sealed = seal(code, '{"access_token":"a"}');

    expect(unseal(code, sealed)).toBe('{"access_token":"a"}');
    expect(() => unseal(newSecret(), sealed)).toThrow();
    expect(sealed).not.toContain('access_token');
  });

  it('checks a PKCE verifier by its S256 challenge, and its form first', () => {
    const verifier = newSecret();
    const challenge = createHash('sha256').update(verifier).digest('base64url');

    expect(pkceMatches(verifier, challenge)).toBe(true);
    expect(pkceMatches(newSecret(), challenge)).toBe(false);
    // A verifier equal to the challenge ("plain") is not the S256 of itself.
    expect(pkceMatches(challenge, challenge)).toBe(false);
    expect(pkceMatches('short', digest('short'))).toBe(false);
  });
});
