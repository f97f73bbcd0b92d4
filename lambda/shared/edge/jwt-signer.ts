import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';

/** The JWS algorithm of every token the platform signs: RSA PKCS#1 v1.5 with SHA-256. */
export const PLATFORM_JWT_ALG = 'RS256';
const KMS_SIGNING_ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';

/** A public key as the JWKS publishes it. */
export interface PlatformJwk extends JsonWebKey {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly alg: typeof PLATFORM_JWT_ALG;
  readonly use: 'sig';
}

export interface JwtSigner {
  /** A compact JWS of `payload`, with `typ` in its header (`at+jwt` for access tokens). */
  sign(payload: Record<string, unknown>, typ: string): Promise<string>;
  /** The JWKS that verifies what `sign` signs. */
  jwks(): Promise<{ keys: PlatformJwk[] }>;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * Signs JWTs with an asymmetric KMS key (RSA_2048, SIGN_VERIFY): the private key never leaves
 * KMS, so no function holds signing material, and a key policy or IAM grant decides who may
 * sign. The JWT's signing input is hashed here and KMS signs the digest (`MessageType: DIGEST`),
 * so a token of any size costs one Sign request. The public key is read once per environment;
 * its `kid` is the RFC 7638 thumbprint, the same wherever it is computed.
 */
export class KmsJwtSigner implements JwtSigner {
  private publicKey?: Promise<PlatformJwk>;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  async sign(payload: Record<string, unknown>, typ: string): Promise<string> {
    const { kid } = await this.publicJwk();
    const input = `${base64url(JSON.stringify({ alg: PLATFORM_JWT_ALG, typ, kid }))}.${base64url(JSON.stringify(payload))}`;
    const { Signature } = await this.kms.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: createHash('sha256').update(input).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: KMS_SIGNING_ALGORITHM,
      }),
    );
    if (!Signature) throw new Error('KMS returned no signature');
    return `${input}.${base64url(Buffer.from(Signature))}`;
  }

  async jwks(): Promise<{ keys: PlatformJwk[] }> {
    return { keys: [await this.publicJwk()] };
  }

  /** The key's public half as a JWK (a failed read is retried by the next caller). */
  publicJwk(): Promise<PlatformJwk> {
    this.publicKey ??= this.readPublicKey().catch((error) => {
      this.publicKey = undefined;
      throw error;
    });
    return this.publicKey;
  }

  private async readPublicKey(): Promise<PlatformJwk> {
    const { PublicKey, KeySpec } = await this.kms.send(
      new GetPublicKeyCommand({ KeyId: this.keyId }),
    );
    if (!PublicKey || KeySpec !== 'RSA_2048') {
      throw new Error(`Token signing key is not an RSA_2048 key (${KeySpec ?? 'no key'})`);
    }
    const jwk = createPublicKey({
      key: Buffer.from(PublicKey),
      format: 'der',
      type: 'spki',
    }).export({ format: 'jwk' });
    if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new Error('Token signing key is not RSA');
    return {
      kty: 'RSA',
      n: jwk.n,
      e: jwk.e,
      kid: thumbprint(jwk.e, jwk.n),
      alg: 'RS256',
      use: 'sig',
    };
  }
}

/** RFC 7638 JWK thumbprint of an RSA key: SHA-256 over the required members in order. */
function thumbprint(e: string, n: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
}
