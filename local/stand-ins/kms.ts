import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalIam } from '../iam/local-iam.js';
import { type Answer, AwsError, epochSeconds, json, jsonError } from './protocol.js';
import type { Caller } from './sessions.js';

interface Key {
  readonly keyId: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly description: string;
  readonly policy: string;
  tags: Array<{ TagKey: string; TagValue: string }>;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  deletionDate?: number;
  /** `SYMMETRIC_DEFAULT` (ENCRYPT_DECRYPT) or `RSA_2048` (SIGN_VERIFY): the only two used. */
  readonly keySpec: 'SYMMETRIC_DEFAULT' | 'RSA_2048';
  /**
   * The key material, which never leaves the stand-in: AES-256 (base64) for a symmetric key,
   * the private key (PKCS#8 PEM) for an RSA key.
   */
  secret: string;
}

/** The one signing algorithm the platform uses (RS256). */
const RSA_SIGNING_ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';

/**
 * KMS key management as the provisioner and offboarding use it: CreateKey (policy and tags
 * recorded), DescribeKey by id, ARN or alias, aliases, key policy and tags, scheduling
 * deletion; and the Resource Groups Tagging API's GetResources for keys, which is how a
 * retried provisioning finds a key it created before a crash.
 */
export class KmsStandIn {
  readonly keys = new Map<string, Key>();
  readonly aliases = new Map<string, string>();

  constructor(private readonly iam: LocalIam) {}

  snapshot() {
    return { keys: [...this.keys.values()], aliases: [...this.aliases] };
  }

  restore(state: ReturnType<KmsStandIn['snapshot']>): void {
    for (const key of state.keys) this.keys.set(key.keyId, key);
    for (const [alias, keyId] of state.aliases) this.aliases.set(alias, keyId);
  }

  async handle(
    action: string,
    input: Record<string, unknown>,
    caller: Caller = { operator: true },
  ): Promise<Answer> {
    try {
      if (CRYPTO_ACTIONS.has(action)) return json(await this.crypto(action, input, caller));
      if (SIGNING_ACTIONS.has(action)) return json(await this.signing(action, input, caller));
      return json(this.dispatch(action, input));
    } catch (error) {
      if (error instanceof AwsError) return jsonError(error);
      throw error;
    }
  }

  /** ResourceGroupsTaggingAPI_20170126.GetResources, for `kms:key` only. */
  getResources(input: { TagFilters?: Array<{ Key: string; Values?: string[] }> }): Answer {
    const matches = [...this.keys.values()].filter((key) =>
      (input.TagFilters ?? []).every((filter) =>
        key.tags.some(
          (t) =>
            t.TagKey === filter.Key &&
            (!filter.Values?.length || filter.Values.includes(t.TagValue)),
        ),
      ),
    );
    return json({
      ResourceTagMappingList: matches.map((key) => ({
        ResourceARN: key.arn,
        Tags: key.tags.map((t) => ({ Key: t.TagKey, Value: t.TagValue })),
      })),
    });
  }

  private dispatch(action: string, input: Record<string, unknown>): unknown {
    switch (action) {
      case 'CreateKey': {
        const keyId = randomUUID();
        const keySpec = String(input.KeySpec ?? 'SYMMETRIC_DEFAULT');
        const keyUsage = String(input.KeyUsage ?? 'ENCRYPT_DECRYPT');
        // KMS refuses a spec with a usage it cannot have; only the two combinations used here
        // exist in the stand-in.
        const rsa = keySpec === 'RSA_2048' && keyUsage === 'SIGN_VERIFY';
        if (!rsa && !(keySpec === 'SYMMETRIC_DEFAULT' && keyUsage === 'ENCRYPT_DECRYPT')) {
          throw new AwsError(
            'ValidationException',
            `KMS stand-in does not implement KeySpec ${keySpec} with KeyUsage ${keyUsage}`,
          );
        }
        const key: Key = {
          keySpec: rsa ? 'RSA_2048' : 'SYMMETRIC_DEFAULT',
          keyId,
          arn: `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${keyId}`,
          createdAt: Date.now(),
          description: String(input.Description ?? ''),
          policy: String(input.Policy ?? '{}'),
          tags: (input.Tags as Key['tags']) ?? [],
          state: 'Enabled',
          secret: rsa
            ? generateKeyPairSync('rsa', { modulusLength: 2048 })
                .privateKey.export({ type: 'pkcs8', format: 'pem' })
                .toString()
            : randomBytes(32).toString('base64'),
        };
        JSON.parse(key.policy); // KMS refuses a policy that is not JSON
        this.keys.set(keyId, key);
        return { KeyMetadata: this.metadata(key) };
      }
      case 'DescribeKey':
        return { KeyMetadata: this.metadata(this.find(String(input.KeyId))) };
      case 'CreateAlias': {
        const name = String(input.AliasName);
        if (!name.startsWith('alias/'))
          throw new AwsError('ValidationException', 'alias must start with alias/');
        if (this.aliases.has(name))
          throw new AwsError(
            'AlreadyExistsException',
            `An alias with the name ${name} already exists`,
          );
        this.aliases.set(name, this.find(String(input.TargetKeyId)).keyId);
        return {};
      }
      case 'DeleteAlias': {
        if (!this.aliases.delete(String(input.AliasName)))
          throw new AwsError('NotFoundException', 'Alias not found');
        return {};
      }
      case 'GetKeyPolicy':
        return { Policy: this.find(String(input.KeyId)).policy, PolicyName: 'default' };
      case 'ListResourceTags':
        return { Tags: this.find(String(input.KeyId)).tags, Truncated: false };
      case 'DisableKey': {
        const key = this.find(String(input.KeyId));
        if (key.state === 'PendingDeletion')
          throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
        key.state = 'Disabled';
        return {};
      }
      case 'ScheduleKeyDeletion': {
        const key = this.find(String(input.KeyId));
        const days = Number(input.PendingWindowInDays ?? 30);
        if (days < 7 || days > 30)
          throw new AwsError('ValidationException', 'PendingWindowInDays must be 7-30');
        if (key.state !== 'PendingDeletion') {
          key.state = 'PendingDeletion';
          key.deletionDate = Date.now() + days * 86_400_000;
        } else {
          throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
        }
        return {
          KeyId: key.arn,
          DeletionDate: epochSeconds(key.deletionDate),
          KeyState: key.state,
          PendingWindowInDays: days,
        };
      }
      default:
        throw new AwsError(
          'UnknownOperationException',
          `KMS stand-in does not implement ${action}`,
        );
    }
  }

  /**
   * GenerateDataKey, Encrypt and Decrypt, with real AES-256-GCM under the key's own material
   * and the encryption context as additional authenticated data, so a wrong context fails as
   * it does on KMS. Use is decided as KMS decides it: the key's own key policy together with
   * the session role's policies as deployed (LocalIam), with the encryption context, the
   * key's tags and the session's tags as IAM's context; only sessions use keys here.
   * Disabled and pending-deletion keys refuse.
   */
  private async crypto(
    action: string,
    input: Record<string, unknown>,
    caller: Caller,
  ): Promise<unknown> {
    const context = (input.EncryptionContext as Record<string, string> | undefined) ?? {};
    const key =
      action === 'Decrypt'
        ? this.find(blobKeyId(String(input.CiphertextBlob)))
        : this.find(String(input.KeyId));
    if (keySpecOf(key) !== 'SYMMETRIC_DEFAULT') {
      throw new AwsError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is SIGN_VERIFY which is not valid for ${action}.`,
      );
    }
    if (action === 'Decrypt' && input.KeyId && this.find(String(input.KeyId)).keyId !== key.keyId) {
      throw new AwsError(
        'IncorrectKeyException',
        'The key ID in the request does not identify the key that encrypted the ciphertext.',
      );
    }
    const conditions: Record<string, string | string[]> = {
      'kms:EncryptionContextKeys': Object.keys(context),
      'kms:CallerAccount': LOCAL_ACCOUNT,
    };
    for (const [name, value] of Object.entries(context)) {
      conditions[`kms:EncryptionContext:${name}`] = value;
    }
    for (const tag of key.tags) conditions[`aws:ResourceTag/${tag.TagKey}`] = tag.TagValue;
    const decision =
      'session' in caller
        ? await this.iam.decide(caller.session, {
            action: `kms:${action}`,
            resource: key.arn,
            context: conditions,
            resourcePolicy: JSON.parse(key.policy),
          })
        : 'ImplicitlyDenied';
    if (decision !== 'Allowed') {
      throw new AwsError(
        'AccessDeniedException',
        `User is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows it`,
      );
    }
    if (key.state === 'Disabled')
      throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion')
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);

    switch (action) {
      case 'GenerateDataKey':
      case 'GenerateDataKeyWithoutPlaintext': {
        const plaintext = randomBytes(dataKeyBytes(input));
        return {
          KeyId: key.arn,
          // WithoutPlaintext: the caller gets only the wrapped key, to be opened with Decrypt.
          ...(action === 'GenerateDataKey' ? { Plaintext: plaintext.toString('base64') } : {}),
          CiphertextBlob: seal(key, plaintext, context),
        };
      }
      case 'Encrypt':
        return {
          KeyId: key.arn,
          CiphertextBlob: seal(key, Buffer.from(String(input.Plaintext), 'base64'), context),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      default:
        return {
          KeyId: key.arn,
          Plaintext: open(key, String(input.CiphertextBlob), context).toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
    }
  }

  /**
   * Sign and GetPublicKey on an RSA_2048 SIGN_VERIFY key, as KMS answers them: only the key's
   * own algorithm, a RAW message of at most 4096 bytes or a DIGEST of exactly 32 bytes, the
   * public key as DER SubjectPublicKeyInfo. A symmetric key refuses both
   * (InvalidKeyUsageException), and a symmetric operation on an RSA key refuses too. A
   * session (tenant-scoped) is decided by IAM as deployed, where the data-access role has no
   * signing grant; the platform's own roles stand for roles the template grants.
   */
  private async signing(
    action: string,
    input: Record<string, unknown>,
    caller: Caller,
  ): Promise<unknown> {
    const key = this.find(String(input.KeyId));
    if ('refused' in caller) {
      throw new AwsError('UnrecognizedClientException', caller.refused);
    }
    if ('session' in caller) {
      const decision = await this.iam.decide(caller.session, {
        action: `kms:${action}`,
        resource: key.arn,
        context: { 'kms:CallerAccount': LOCAL_ACCOUNT },
        resourcePolicy: JSON.parse(key.policy),
      });
      if (decision !== 'Allowed') {
        throw new AwsError(
          'AccessDeniedException',
          `User is not authorized to perform: kms:${action} on resource: ${key.arn}`,
        );
      }
    }
    if (keySpecOf(key) !== 'RSA_2048') {
      throw new AwsError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ENCRYPT_DECRYPT which is not valid for ${action}.`,
      );
    }
    if (key.state === 'Disabled')
      throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion')
      throw new AwsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    const publicDer = createPublicKey(createPrivateKey(key.secret)).export({
      type: 'spki',
      format: 'der',
    });
    if (action === 'GetPublicKey') {
      return {
        KeyId: key.arn,
        PublicKey: publicDer.toString('base64'),
        KeySpec: 'RSA_2048',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: [RSA_SIGNING_ALGORITHM],
      };
    }
    if (input.SigningAlgorithm !== RSA_SIGNING_ALGORITHM) {
      throw new AwsError(
        'InvalidKeyUsageException',
        `Signing algorithm ${String(input.SigningAlgorithm)} is not valid for ${key.arn}.`,
      );
    }
    const message = Buffer.from(String(input.Message ?? ''), 'base64');
    const type = String(input.MessageType ?? 'RAW');
    if (message.length === 0 || (type === 'RAW' && message.length > 4096)) {
      throw new AwsError('ValidationException', 'Message must be 1 to 4096 bytes long.');
    }
    if (type === 'DIGEST' && message.length !== 32) {
      throw new AwsError('ValidationException', 'Digest is invalid length for algorithm.');
    }
    if (type !== 'RAW' && type !== 'DIGEST') {
      throw new AwsError('ValidationException', `MessageType ${type} is not valid.`);
    }
    // A DIGEST is signed as is (PKCS#1 v1.5 with the SHA-256 DigestInfo), a RAW message is
    // hashed first: both give the signature RS256 verifiers expect.
    const signature =
      type === 'RAW'
        ? sign('sha256', message, key.secret)
        : privateEncrypt(
            { key: key.secret, padding: constants.RSA_PKCS1_PADDING },
            Buffer.concat([SHA256_DIGEST_INFO, message]),
          );
    return {
      KeyId: key.arn,
      Signature: signature.toString('base64'),
      SigningAlgorithm: RSA_SIGNING_ALGORITHM,
    };
  }

  /** A key by id, ARN, alias name or alias ARN. */
  find(reference: string): Key {
    const alias = reference.startsWith('alias/') ? reference : /:(alias\/.+)$/.exec(reference)?.[1];
    const keyId = alias
      ? this.aliases.get(alias)
      : (/:key\/(.+)$/.exec(reference)?.[1] ?? reference);
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (!key) throw new AwsError('NotFoundException', `Key '${reference}' does not exist`);
    return key;
  }

  private metadata(key: Key) {
    return {
      AWSAccountId: LOCAL_ACCOUNT,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: epochSeconds(key.createdAt),
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: keySpecOf(key) === 'RSA_2048' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT',
      KeySpec: keySpecOf(key),
      ...(keySpecOf(key) === 'RSA_2048' ? { SigningAlgorithms: [RSA_SIGNING_ALGORITHM] } : {}),
      KeyState: key.state,
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
      ...(key.deletionDate ? { DeletionDate: epochSeconds(key.deletionDate) } : {}),
    };
  }
}

/**
 * The data key's length: KMS takes exactly one of `KeySpec` (AES_256 or AES_128) and
 * `NumberOfBytes` (1 to 1024), and refuses a request with both or neither (ValidationException).
 */
function dataKeyBytes(input: Record<string, unknown>): number {
  const { KeySpec: spec, NumberOfBytes: bytes } = input;
  if ((spec === undefined) === (bytes === undefined)) {
    throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  if (spec !== undefined) {
    if (spec !== 'AES_256' && spec !== 'AES_128') {
      throw new AwsError('ValidationException', `KeySpec ${String(spec)} is not valid.`);
    }
    return spec === 'AES_256' ? 32 : 16;
  }
  const n = Number(bytes);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new AwsError('ValidationException', 'NumberOfBytes must be between 1 and 1024.');
  }
  return n;
}

const CRYPTO_ACTIONS = new Set([
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'Encrypt',
  'Decrypt',
]);
const SIGNING_ACTIONS = new Set(['Sign', 'GetPublicKey']);
/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017, 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** Keys saved before the stand-in knew RSA keys are symmetric. */
function keySpecOf(key: Key): Key['keySpec'] {
  return key.keySpec ?? 'SYMMETRIC_DEFAULT';
}

/** The context as additional authenticated data, independent of key order. */
function aad(context: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))),
  );
}

/** Ciphertext blob: key id length (2 bytes), key id, IV (12), tag (16), ciphertext. */
function seal(key: Key, plaintext: Buffer, context: Record<string, string>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key.secret, 'base64'), iv);
  cipher.setAAD(aad(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const id = Buffer.from(key.keyId);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(id.length);
  return Buffer.concat([length, id, iv, cipher.getAuthTag(), body]).toString('base64');
}

function blobKeyId(blob: string): string {
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 2)
    throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  return bytes.subarray(2, 2 + bytes.readUInt16BE(0)).toString();
}

function open(key: Key, blob: string, context: Record<string, string>): Buffer {
  const bytes = Buffer.from(blob, 'base64');
  const start = 2 + bytes.readUInt16BE(0);
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(key.secret, 'base64'),
      bytes.subarray(start, start + 12),
    );
    decipher.setAAD(aad(context));
    decipher.setAuthTag(bytes.subarray(start + 12, start + 28));
    return Buffer.concat([decipher.update(bytes.subarray(start + 28)), decipher.final()]);
  } catch {
    throw new AwsError('InvalidCiphertextException', 'The ciphertext is invalid.');
  }
}
