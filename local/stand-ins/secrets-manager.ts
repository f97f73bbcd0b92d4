import { randomBytes, randomUUID } from 'node:crypto';
import { TENANT_SECRET_PREFIX } from '../../lambda/shared/isolation.js';
import { type Answer, AwsError, epochSeconds, json, jsonError } from './protocol.js';

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
 * prefix, and delete. Requests signed with a data-access session reach only secrets under
 * that session's tenant path, and must tag what they create with the tenant, as the role's
 * policy requires; other credentials (the operator's) are not restricted.
 */
export class SecretsManagerStandIn {
  private readonly secrets = new Map<string, Secret>();

  snapshot() {
    return [...this.secrets.values()];
  }

  restore(state: Secret[] | undefined): void {
    for (const secret of state ?? []) this.secrets.set(secret.name, secret);
  }

  handle(
    action: string,
    input: Record<string, unknown>,
    caller: { tenantTag?: string; session: boolean },
  ): Answer {
    try {
      return json(this.dispatch(action, input, caller));
    } catch (error) {
      if (error instanceof AwsError) return jsonError(error);
      throw error;
    }
  }

  private dispatch(
    action: string,
    input: Record<string, unknown>,
    caller: { tenantTag?: string; session: boolean },
  ) {
    const name = String(input.Name ?? input.SecretId ?? '');
    if (caller.session) this.authorize(action, name, input, caller.tenantTag);
    switch (action) {
      case 'CreateSecret': {
        if (this.secrets.has(name))
          throw new AwsError(
            'ResourceExistsException',
            `The operation failed because the secret ${name} already exists.`,
          );
        const secret: Secret = {
          name,
          arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${randomBytes(3).toString('hex')}`,
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

  /**
   * The data-access role's rules: only secrets under the session's tenant path; created ones
   * tagged with exactly that tenant; existing ones only if tagged with it; no listing.
   */
  private authorize(
    action: string,
    name: string,
    input: Record<string, unknown>,
    tenant?: string,
  ): void {
    const deny = () => {
      throw new AwsError(
        'AccessDeniedException',
        `User is not authorized to perform: secretsmanager:${action} on resource: ${name}`,
      );
    };
    if (!tenant || action === 'ListSecrets' || action === 'DeleteSecret') deny();
    if (!this.nameOf(name).startsWith(`${TENANT_SECRET_PREFIX}/${tenant}/`)) deny();
    if (action === 'CreateSecret') {
      const tags = (input.Tags as Secret['tags'] | undefined) ?? [];
      if (tags.length === 0 || !tags.every((t) => t.Key === 'TenantId' && t.Value === tenant))
        deny();
      return;
    }
    // IAM evaluates the role's `aws:ResourceTag/TenantId` condition before Secrets Manager
    // looks the secret up: a secret that does not exist has no tag to match, so the session
    // is told AccessDenied, never ResourceNotFound (as on AWS).
    const existing = this.secrets.get(this.nameOf(name));
    if (!existing?.tags.some((t) => t.Key === 'TenantId' && t.Value === tenant)) deny();
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
