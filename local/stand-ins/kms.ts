import { randomUUID } from 'node:crypto';
import { type Answer, AwsError, epochSeconds, json, jsonError } from './protocol.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

interface Key {
  readonly keyId: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly description: string;
  readonly policy: string;
  tags: Array<{ TagKey: string; TagValue: string }>;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  deletionDate?: number;
}

/**
 * KMS key management as the provisioner and offboarding use it: CreateKey (policy and tags
 * recorded), DescribeKey by id, ARN or alias, aliases, key policy and tags, scheduling
 * deletion; and the Resource Groups Tagging API's GetResources for keys, which is how a
 * retried provisioning finds a key it created before a crash.
 */
export class KmsStandIn {
  readonly keys = new Map<string, Key>();
  readonly aliases = new Map<string, string>();

  snapshot() {
    return { keys: [...this.keys.values()], aliases: [...this.aliases] };
  }

  restore(state: ReturnType<KmsStandIn['snapshot']>): void {
    for (const key of state.keys) this.keys.set(key.keyId, key);
    for (const [alias, keyId] of state.aliases) this.aliases.set(alias, keyId);
  }

  handle(action: string, input: Record<string, unknown>): Answer {
    try {
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
        const key: Key = {
          keyId,
          arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`,
          createdAt: Date.now(),
          description: String(input.Description ?? ''),
          policy: String(input.Policy ?? '{}'),
          tags: (input.Tags as Key['tags']) ?? [],
          state: 'Enabled',
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
      AWSAccountId: ACCOUNT,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: epochSeconds(key.createdAt),
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyState: key.state,
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
      ...(key.deletionDate ? { DeletionDate: epochSeconds(key.deletionDate) } : {}),
    };
  }
}
