import { createHash } from 'node:crypto';
import {
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
} from '@aws-crypto/caching-materials-manager-node';
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  MultiKeyringNode,
} from '@aws-crypto/material-management-node';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/raw-aes-keyring-node';
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
  /** The pooled KMS key, which wraps the data keys of pooled tenants. */
  readonly pooledKeyArn: string;
  /**
   * How long a data key is reused and decryption materials kept, and how long a pooled
   * tenant's unwrapped data key is held. It is also how long a warm environment can still
   * decrypt after the tenant's own key is disabled. (A pooled tenant's wrapped key comes with
   * each request's authorizer answer: once the registry drops it, requests stop carrying it
   * within the authorizer cache time.) @default 60 seconds
   */
  readonly maxAgeMs?: number;
  /** How many messages one data key may encrypt. @default 1000 */
  readonly maxMessagesEncrypted?: number;
  /** Entries of each tenant's materials cache. @default 100 */
  readonly cacheCapacity?: number;
  /** How many tenants' ciphers one warm environment keeps. @default 64 */
  readonly maxCachedTenants?: number;
  readonly now?: () => number;
}

/** The keys a tenant's fields are sealed under (TenantContext's `kmsKeyArn`, `dataKey`, `sealWith`). */
export interface TenantKeys {
  /** Its own KMS key (a dedicated tier). */
  readonly kmsKeyArn?: string;
  /** Its data key, wrapped by the pooled key (a pooled tier). */
  readonly dataKey?: string;
  /** Which of the two new messages go under; the other, if given, still opens old ones. */
  readonly sealWith: 'own' | 'pooled';
}

/** The raw keyring's namespace for pooled tenants' data keys (the EDK's provider id). */
export const POOLED_KEY_NAMESPACE = 'mcp-pooled-data-key';

/**
 * Envelope encryption of tenant data with the AWS Encryption SDK, under a key that only the
 * tenant's own session can use, with the encryption context `{ tenantId }` on every message
 * and checked on every decryption:
 *
 * - a tenant of a dedicated tier: a KMS keyring on its own KMS key, called with the
 *   tenant-scoped credentials. Its key policy allows the key only to a session tagged with that
 *   tenant and only with that context. A caching materials manager per tenant (never shared)
 *   reuses a data key for up to `maxMessagesEncrypted` messages or `maxAgeMs`.
 * - a tenant of a pooled tier: a raw AES keyring on its own data key, which KMS generated under
 *   the one pooled key with the tenant as encryption context and which is stored wrapped. It is
 *   unwrapped with the tenant-scoped credentials, which the pooled key's policy allows only for
 *   the session's own tenant context; so another tenant's session cannot open it, and its
 *   messages name the key (`data-key/<tenant>/<fingerprint>`) so no other key is tried.
 *   Deleting the wrapped key makes every copy of its messages unreadable (crypto-shredding).
 *
 * Either way a bug that hands one tenant's ciphertext or key to another's cipher gets a
 * refusal, not plaintext; and `maxAgeMs` bounds how long a warm environment keeps using a key
 * after it is revoked.
 */
export class TenantCryptography {
  private readonly ciphers = new Map<string, TenantCipher>();
  private readonly now: () => number;

  constructor(private readonly options: TenantCryptographyOptions) {
    this.now = options.now ?? Date.now;
  }

  forTenant(tenantId: TenantId, keys: TenantKeys): TenantCipher {
    const cacheKey = `${tenantId} ${keys.sealWith} ${keys.kmsKeyArn ?? '-'} ${keys.dataKey ?? '-'}`;
    const existing = this.ciphers.get(cacheKey);
    if (existing) return existing;
    const kms = new KMS({ credentials: () => this.options.credentials.forTenant(tenantId) });
    kms.middlewareStack.use(abortWithRequest());
    const ownKeyring = keys.kmsKeyArn
      ? new KmsKeyringNode({ generatorKeyId: keys.kmsKeyArn, clientProvider: () => kms })
      : undefined;
    const own = ownKeyring
      ? new NodeCachingMaterialsManager({
          backingMaterials: ownKeyring,
          cache: getLocalCryptographicMaterialsCache(this.options.cacheCapacity ?? 100),
          partition: tenantId,
          maxAge: this.options.maxAgeMs ?? 60_000,
          maxMessagesEncrypted: this.options.maxMessagesEncrypted ?? 1000,
        })
      : undefined;
    const pooled = keys.dataKey
      ? new PooledDataKey(kms, this.options.pooledKeyArn, tenantId, keys.dataKey, {
          maxAgeMs: this.options.maxAgeMs ?? 60_000,
          now: this.now,
        })
      : undefined;
    const cipher = new TenantCipher(tenantId, {
      own,
      ownKeyring,
      ownKeyArn: keys.kmsKeyArn,
      pooled,
      sealWith: keys.sealWith,
    });
    this.ciphers.set(cacheKey, cipher);
    if (this.ciphers.size > (this.options.maxCachedTenants ?? 64)) {
      const [oldest] = this.ciphers.keys();
      if (oldest !== undefined) this.ciphers.delete(oldest);
    }
    return cipher;
  }
}

/**
 * A pooled tenant's data key, unwrapped by KMS on first use and held for `maxAgeMs`: a raw AES
 * keyring named after the tenant and the wrapped key's fingerprint.
 */
class PooledDataKey {
  readonly keyName: string;
  private current?: { keyring: Promise<RawAesKeyringNode>; until: number };

  constructor(
    private readonly kms: KMS,
    private readonly pooledKeyArn: string,
    private readonly tenantId: TenantId,
    private readonly wrapped: string,
    private readonly options: { maxAgeMs: number; now: () => number },
  ) {
    this.keyName = pooledKeyName(tenantId, wrapped);
  }

  keyring(): Promise<RawAesKeyringNode> {
    const now = this.options.now();
    if (this.current && this.current.until > now) return this.current.keyring;
    const keyring = this.unwrap();
    this.current = { keyring, until: now + this.options.maxAgeMs };
    // A failed unwrap is not kept: the next message tries again.
    keyring.catch(() => {
      if (this.current?.keyring === keyring) this.current = undefined;
    });
    return keyring;
  }

  private async unwrap(): Promise<RawAesKeyringNode> {
    const { Plaintext } = await this.kms.decrypt({
      KeyId: this.pooledKeyArn,
      CiphertextBlob: Buffer.from(this.wrapped, 'base64'),
      EncryptionContext: { [ENCRYPTION_CONTEXT_KEY]: this.tenantId },
    });
    if (Plaintext?.length !== 32) throw new Error('KMS returned no 256-bit data key');
    // The keyring wants a buffer of its own (the SDK's may be a view of a larger one); the
    // SDK's copy is wiped.
    const key = new Uint8Array(Plaintext);
    Plaintext.fill(0);
    return new RawAesKeyringNode({
      keyName: this.keyName,
      keyNamespace: POOLED_KEY_NAMESPACE,
      unencryptedMasterKey: key,
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
  }
}

/** The name a pooled tenant's messages give their key: the tenant and the wrapped key's hash. */
export function pooledKeyName(tenantId: TenantId, wrapped: string): string {
  const fingerprint = createHash('sha256').update(wrapped).digest('hex').slice(0, 16);
  return `data-key/${tenantId}/${fingerprint}`;
}

/**
 * A new data key for a pooled tenant, generated and wrapped by KMS under the pooled key with the
 * tenant as encryption context; its plaintext never leaves KMS here. `kms` must act in the
 * tenant's own session (the pooled key's policy allows nothing else).
 */
export async function newPooledDataKey(
  kms: Pick<KMS, 'generateDataKeyWithoutPlaintext'>,
  pooledKeyArn: string,
  tenantId: TenantId,
): Promise<string> {
  const { CiphertextBlob } = await kms.generateDataKeyWithoutPlaintext({
    KeyId: pooledKeyArn,
    KeySpec: 'AES_256',
    EncryptionContext: { [ENCRYPTION_CONTEXT_KEY]: tenantId },
  });
  if (!CiphertextBlob) throw new Error('KMS returned no wrapped data key');
  return Buffer.from(CiphertextBlob).toString('base64');
}

/** What seals and opens one tenant's fields. */
export interface FieldCipher {
  readonly tenantId: TenantId;
  encrypt(plaintext: string): Promise<string>;
  /** The plaintext of a message this tenant encrypted; anything else is an InternalError. */
  decrypt(message: string): Promise<string>;
}

/** Where one message's data key was sealed: the tenant's own KMS key or a pooled data key. */
export interface SealedBy {
  readonly kind: 'own' | 'pooled';
  /** The KMS key ARN, or the pooled data key's name (pooledKeyName). */
  readonly key: string;
}

/** One tenant's cipher: text in, an opaque base64 message out, and back. */
export class TenantCipher implements FieldCipher {
  constructor(
    readonly tenantId: TenantId,
    private readonly keys: {
      readonly own?: NodeCachingMaterialsManager;
      readonly ownKeyring?: KmsKeyringNode;
      readonly ownKeyArn?: string;
      readonly pooled?: PooledDataKey;
      readonly sealWith: 'own' | 'pooled';
    },
  ) {}

  /** The key new messages go under, as `opened` reports it. */
  get sealsWith(): SealedBy {
    const { keys } = this;
    return keys.sealWith === 'own'
      ? { kind: 'own', key: keys.ownKeyArn ?? '' }
      : { kind: 'pooled', key: keys.pooled?.keyName ?? '' };
  }

  async encrypt(plaintext: string): Promise<string> {
    try {
      const { result } = await encrypt(await this.sealer(), Buffer.from(plaintext, 'utf8'), {
        encryptionContext: { [ENCRYPTION_CONTEXT_KEY]: this.tenantId },
        suiteId: SUITE,
      });
      return result.toString('base64');
    } catch (error) {
      throw new InternalError(`Could not encrypt for tenant ${this.tenantId}`, { cause: error });
    }
  }

  /**
   * The plaintext of a message this tenant encrypted. Anything else (another tenant's message,
   * a corrupted one, a key KMS refuses, a deleted data key) is an InternalError: a generic
   * answer to the caller and the cause in the log.
   */
  async decrypt(message: string): Promise<string> {
    return (await this.open(message)).plaintext;
  }

  /** The plaintext, and which key the message was sealed under (tier changes re-seal by it). */
  async open(message: string): Promise<{ plaintext: string; sealedBy: SealedBy }> {
    try {
      const { plaintext, messageHeader } = await decrypt(
        await this.opener(),
        Buffer.from(message, 'base64'),
      );
      if (messageHeader.encryptionContext[ENCRYPTION_CONTEXT_KEY] !== this.tenantId) {
        throw new Error('encryption context names another tenant');
      }
      const [edk] = messageHeader.encryptedDataKeys;
      // A raw keyring's provider info is its key name followed by the wrapping's IV.
      const keyName = this.keys.pooled?.keyName;
      const sealedBy: SealedBy =
        edk?.providerId === POOLED_KEY_NAMESPACE
          ? {
              kind: 'pooled',
              key: keyName && edk.providerInfo.startsWith(keyName) ? keyName : edk.providerInfo,
            }
          : { kind: 'own', key: edk?.providerInfo ?? '' };
      return { plaintext: plaintext.toString('utf8'), sealedBy };
    } catch (error) {
      throw new InternalError(`Could not decrypt a message of tenant ${this.tenantId}`, {
        cause: error,
      });
    }
  }

  private async sealer() {
    const { own, pooled, sealWith } = this.keys;
    const materials = sealWith === 'own' ? own : await pooled?.keyring();
    if (!materials) throw new Error(`no ${sealWith} key to seal with`);
    return materials;
  }

  private async opener() {
    const { own, ownKeyring, pooled } = this.keys;
    if (!pooled) {
      if (!own) throw new Error('no key to open with');
      return own;
    }
    const raw = await pooled.keyring();
    if (!ownKeyring) return raw;
    // Both, while a tier change re-seals: each message has one data key, sealed by one of them.
    return new MultiKeyringNode({ children: [ownKeyring, raw] });
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
