import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** A new unguessable value (256 bits) for a code, state or cookie. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What the table stores in place of a code or token: its SHA-256. */
export function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function sameDigest(secret: string, expected: string): boolean {
  const actual = Buffer.from(digest(secret));
  const wanted = Buffer.from(expected);
  return actual.length === wanted.length && timingSafeEqual(actual, wanted);
}

/** PKCE S256 (RFC 7636 4.6): the verifier's form is checked before its hash. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return /^[A-Za-z0-9._~-]{43,128}$/.test(verifier) && sameDigest(verifier, challenge);
}

const key = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'mcp-facade-code-v1', 32));

/**
 * Seals `plaintext` (tokens waiting for their one-time code) under a key derived from the code
 * itself, which only the client receives: the table holds the code's digest and this, and
 * neither yields a token without the code. AES-256-GCM, a fresh IV each time.
 */
export function seal(secret: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(secret), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function unseal(secret: string, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
