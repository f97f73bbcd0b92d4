import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

/** Tokens an attacker builds from a real one: edited, unsigned, or signed with the wrong key. */
export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function jwtParts(jwt: string) {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    signature,
  };
}

/** The payload edited (the signature kept, so it no longer matches). */
export function tampered(jwt: string, claims: Record<string, unknown>): string {
  const { header, payload, signature } = jwtParts(jwt);
  return `${b64(header)}.${b64({ ...payload, ...claims })}.${signature}`;
}

export function unsigned(jwt: string): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(jwtParts(jwt).payload)}.`;
}

/** Signed with a fresh RSA key, under the given key id (by default the issuer's). */
export async function signedWithAnotherKey(jwt: string, kid?: string): Promise<string> {
  const { header, payload } = jwtParts(jwt);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new SignJWT(payload)
    .setProtectedHeader({ ...header, alg: 'RS256', ...(kid ? { kid } : {}) })
    .sign(privateKey);
}

/** HS256 keyed with the issuer's public key: the classic algorithm-confusion forgery. */
export async function hs256WithPublicKey(jwt: string, issuerUrl: string): Promise<string> {
  const { header, payload } = jwtParts(jwt);
  const jwks = (await (await fetch(`${issuerUrl}/.well-known/jwks.json`)).json()) as {
    keys: Array<Record<string, unknown>>;
  };
  const publicPem = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  });
  const signingInput = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', publicPem).update(signingInput).digest('base64url')}`;
}
