import { randomBytes, randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalIam } from '../iam/local-iam.js';
import { type Answer, AwsError, epochSeconds, json, jsonError } from './protocol.js';
import type { Caller, Session } from './sessions.js';

interface Secret {
  readonly name: string;
  readonly arn: string;
  value: string;
  versionId: string;
  readonly tags: Array<{ Key: string; Value: string }>;
  readonly createdAt: number;
}

/**
 * Secrets Manager for tenant secrets: create (with tags), put, get, describe, list by name
 * prefix, and delete. A request signed with an STS session is put to IAM first (LocalIam: the
 * session role's policies as deployed), with the secret's tags or the request's tags as IAM's
 * context, before the secret is even looked up: a secret that does not exist has no tag to
 * match, so a tag-conditioned policy answers AccessDenied, never ResourceNotFound, as on AWS.
 * The operator's credentials are not restricted.
 */
export class SecretsManagerStandIn {
  private readonly secrets = new Map<string, Secret>();

  snapshot() {
    return [...this.secrets.values()];
  }

  restore(state: Secret[] | undefined): void {
    for (const secret of state ?? []) this.secrets.set(secret.name, secret);
  }

  constructor(private readonly iam: LocalIam) {}

  async handle(action: string, input: Record<string, unknown>, caller: Caller): Promise<Answer> {
    try {
      const name = String(input.Name ?? input.SecretId ?? '');
      if ('refused' in caller) {
        throw new AwsError('AccessDeniedException', `The request was refused: ${caller.refused}.`);
      }
      if ('session' in caller) await this.authorize(action, name, input, caller.session);
      return json(this.dispatch(action, input));
    } catch (error) {
      if (error instanceof AwsError) return jsonError(error);
      throw error;
    }
  }

  private dispatch(action: string, input: Record<string, unknown>) {
    const name = String(input.Name ?? input.SecretId ?? '');
    switch (action) {
      case 'CreateSecret': {
        if (this.secrets.has(name))
          throw new AwsError(
            'ResourceExistsException',
            `The operation failed because the secret ${name} already exists.`,
          );
        const secret: Secret = {
          name,
          arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`,
          value: String(input.SecretString ?? ''),
          versionId: randomUUID(),
          tags: (input.Tags as Secret['tags']) ?? [],
          createdAt: Date.now(),
        };
        this.secrets.set(name, secret);
        return { ARN: secret.arn, Name: name, VersionId: secret.versionId };
      }
      case 'PutSecretValue': {
        const secret = this.find(name);
        secret.value = String(input.SecretString ?? '');
        secret.versionId = randomUUID();
        return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId };
      }
      case 'GetSecretValue': {
        const secret = this.find(name);
        return {
          ARN: secret.arn,
          Name: secret.name,
          SecretString: secret.value,
          VersionId: secret.versionId,
          CreatedDate: epochSeconds(secret.createdAt),
        };
      }
      case 'DescribeSecret': {
        const secret = this.find(name);
        return { ARN: secret.arn, Name: secret.name, Tags: secret.tags };
      }
      case 'ListSecrets': {
        const filters = (input.Filters as Array<{ Key: string; Values: string[] }>) ?? [];
        const prefixes = filters.filter((f) => f.Key === 'name').flatMap((f) => f.Values);
        const list = [...this.secrets.values()].filter((s) =>
          prefixes.every((p) => s.name.startsWith(p)),
        );
        return { SecretList: list.map((s) => ({ ARN: s.arn, Name: s.name, Tags: s.tags })) };
      }
      case 'DeleteSecret': {
        const secret = this.find(name);
        this.secrets.delete(secret.name);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds() };
      }
      default:
        throw new AwsError(
          'InvalidRequestException',
          `Secrets Manager stand-in does not implement ${action}`,
        );
    }
  }

  /** IAM's decision on the request, with the context Secrets Manager gives IAM. */
  private async authorize(
    action: string,
    id: string,
    input: Record<string, unknown>,
    session: Session,
  ): Promise<void> {
    const existing = this.secrets.get(this.nameOf(id));
    const context: Record<string, string | string[]> = {};
    for (const tag of existing?.tags ?? []) context[`aws:ResourceTag/${tag.Key}`] = tag.Value;
    const requestTags = (input.Tags as Secret['tags'] | undefined) ?? [];
    for (const tag of requestTags) context[`aws:RequestTag/${tag.Key}`] = tag.Value;
    if (requestTags.length > 0) context['aws:TagKeys'] = requestTags.map((t) => t.Key);
    const resource =
      existing?.arn ??
      `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${this.nameOf(id)}`;
    const decision = await this.iam.decide(session, {
      action: `secretsmanager:${action}`,
      resource: action === 'ListSecrets' ? '*' : resource,
      context,
    });
    if (decision !== 'Allowed') {
      throw new AwsError(
        'AccessDeniedException',
        `User: assumed-role/${session.sessionName} is not authorized to perform: secretsmanager:${action} on resource: ${id} (${decision})`,
      );
    }
  }

  /** A secret's name, given its name or ARN. */
  private nameOf(id: string): string {
    return /:secret:(.+)-[0-9a-f]{6}$/.exec(id)?.[1] ?? id;
  }

  private find(id: string): Secret {
    const secret = this.secrets.get(this.nameOf(id));
    if (!secret)
      throw new AwsError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    return secret;
  }
}
