import {
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
} from '@aws-crypto/caching-materials-manager-node';
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { AlgorithmSuiteIdentifier, CommitmentPolicy } from '@aws-crypto/material-management-node';
import { KMS } from '@aws-sdk/client-kms';
import { InternalError } from '../platform/errors.js';
import { abortWithRequest } from '../platform/request-scope.js';
import type { TenantCredentials } from './credentials.js';
import { ENCRYPTION_CONTEXT_KEY } from './isolation.js';
import type { TenantId } from './tenant.js';

// What `buildClient` of @aws-crypto/client-node does, from its parts: that package ships CommonJS
// only, which esbuild cannot tree-shake (it bundled every keyring and a DynamoDB client: about
// 100 KiB, and 8 % of the MCP function's import).
const CLIENT_OPTIONS = {
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  // One tenant key per message: refuse messages that carry more (or attacker-added) keys.
  maxEncryptedDataKeys: 1,
} as const;
const { encrypt } = buildEncrypt(CLIENT_OPTIONS);
const { decrypt } = buildDecrypt(CLIENT_OPTIONS);

/**
 * Key commitment without a message signature: writer and reader are the same principal (the
 * tenant's session), so a signature would only add bytes and time to every message.
 */
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

export interface TenantCryptographyOptions {
  readonly credentials: TenantCredentials;
  /**
   * How long a data key is reused and decryption materials kept. It is also how long a warm
   * environment can still decrypt after the tenant's key is disabled or scheduled for
   * deletion. @default 60 seconds
   */
  readonly maxAgeMs?: number;
  /** How many messages one data key may encrypt. @default 1000 */
  readonly maxMessagesEncrypted?: number;
  /** Entries of each tenant's materials cache. @default 100 */
  readonly cacheCapacity?: number;
  /** How many tenants' ciphers one warm environment keeps. @default 64 */
  readonly maxCachedTenants?: number;
}

/**
 * Envelope encryption of tenant data under the tenant's own KMS key, with the AWS Encryption
 * SDK: a KMS keyring on the tenant's key, called with the tenant-scoped credentials, and the
 * encryption context `{ tenantId }` on every message and checked on every decryption. The key
 * policy allows the key only to a session tagged with that tenant and only with that context,
 * so a bug that hands one tenant's ciphertext or key to another's cipher gets a refusal from
 * KMS, not plaintext.
 *
 * A caching materials manager per tenant (never shared between tenants) reuses a data key for
 * up to `maxMessagesEncrypted` messages or `maxAgeMs`, so a busy tenant does not call KMS on
 * every request; the same bound limits how long a revoked key keeps working in a warm
 * environment.
 */
export class TenantCryptography {
  private readonly ciphers = new Map<string, TenantCipher>();

  constructor(private readonly options: TenantCryptographyOptions) {}

  forTenant(tenantId: TenantId, kmsKeyArn: string): TenantCipher {
    const cacheKey = `${tenantId} ${kmsKeyArn}`;
    const existing = this.ciphers.get(cacheKey);
    if (existing) return existing;
    const kms = new KMS({ credentials: () => this.options.credentials.forTenant(tenantId) });
    kms.middlewareStack.use(abortWithRequest());
    const keyring = new KmsKeyringNode({
      generatorKeyId: kmsKeyArn,
      clientProvider: () => kms,
    });
    const materials = new NodeCachingMaterialsManager({
      backingMaterials: keyring,
      cache: getLocalCryptographicMaterialsCache(this.options.cacheCapacity ?? 100),
      partition: tenantId,
      maxAge: this.options.maxAgeMs ?? 60_000,
      maxMessagesEncrypted: this.options.maxMessagesEncrypted ?? 1000,
    });
    const cipher = new TenantCipher(tenantId, materials);
    this.ciphers.set(cacheKey, cipher);
    if (this.ciphers.size > (this.options.maxCachedTenants ?? 64)) {
      const [oldest] = this.ciphers.keys();
      if (oldest !== undefined) this.ciphers.delete(oldest);
    }
    return cipher;
  }
}

/** What seals and opens one tenant's fields. */
export interface FieldCipher {
  readonly tenantId: TenantId;
  encrypt(plaintext: string): Promise<string>;
  /** The plaintext of a message this tenant encrypted; anything else is an InternalError. */
  decrypt(message: string): Promise<string>;
}

/** One tenant's cipher: text in, an opaque base64 message out, and back. */
export class TenantCipher implements FieldCipher {
  constructor(
    readonly tenantId: TenantId,
    private readonly materials: NodeCachingMaterialsManager,
  ) {}

  async encrypt(plaintext: string): Promise<string> {
    const { result } = await encrypt(this.materials, Buffer.from(plaintext, 'utf8'), {
      encryptionContext: { [ENCRYPTION_CONTEXT_KEY]: this.tenantId },
      suiteId: SUITE,
    });
    return result.toString('base64');
  }

  /**
   * The plaintext of a message this tenant encrypted. Anything else (another tenant's message,
   * a corrupted one, a key KMS refuses) is an InternalError: a generic answer to the caller and
   * the cause in the log.
   */
  async decrypt(message: string): Promise<string> {
    try {
      const { plaintext, messageHeader } = await decrypt(
        this.materials,
        Buffer.from(message, 'base64'),
      );
      if (messageHeader.encryptionContext[ENCRYPTION_CONTEXT_KEY] !== this.tenantId) {
        throw new Error('encryption context names another tenant');
      }
      return plaintext.toString('utf8');
    } catch (error) {
      throw new InternalError(`Could not decrypt a message of tenant ${this.tenantId}`, {
        cause: error,
      });
    }
  }
}

/**
 * Encrypts the named fields of a record, each as its own message, into `sealed`; the other
 * fields stay in the clear (to list, sort and page). Collections (collection.ts) call it with
 * their `sensitive` list.
 */
export async function sealFields<T extends Record<string, unknown>, K extends keyof T & string>(
  record: T,
  fields: readonly K[],
  cipher: FieldCipher,
): Promise<Omit<T, K> & { sealed: Record<K, string> }> {
  const clear: Record<string, unknown> = { ...record };
  const sealed = {} as Record<K, string>;
  for (const field of fields) {
    delete clear[field];
    // An optional field that is absent stays absent: there is nothing to seal.
    if (record[field] === undefined) continue;
    sealed[field] = await cipher.encrypt(JSON.stringify(record[field]));
  }
  return { ...(clear as Omit<T, K>), sealed };
}

/** The record with its sealed fields decrypted back in place (for the owning tenant only). */
export async function openFields(
  item: Record<string, unknown> & { sealed?: Record<string, string> },
  cipher: FieldCipher,
): Promise<Record<string, unknown>> {
  const { sealed = {}, ...clear } = item;
  const opened: Record<string, unknown> = { ...clear };
  for (const [field, message] of Object.entries(sealed)) {
    opened[field] = JSON.parse(await cipher.decrypt(message));
  }
  return opened;
}
