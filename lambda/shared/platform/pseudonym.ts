import { createHmac } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Pseudonyms for user ids in logs, metrics dimensions and usage keys: a keyed hash (HMAC-SHA256)
 * of the Cognito `sub`, so an operator can follow one user's requests without logs holding the
 * sub or the e-mail, and nobody without the key can recompute a pseudonym from a known sub.
 */
/** What a pseudonym looks like: `u_` and 22 base64url characters of the keyed hash. */
export const PSEUDONYM_PATTERN = /^u_[A-Za-z0-9_-]{22}$/;

export class Pseudonyms {
  constructor(private readonly key: Buffer) {
    if (key.byteLength < 32) throw new Error('The pseudonym key must be at least 32 bytes.');
  }

  of(userId: string): string {
    return `u_${createHmac('sha256', this.key).update(userId, 'utf8').digest('base64url').slice(0, 22)}`;
  }
}

/**
 * Loads the key from Secrets Manager (`PSEUDONYM_KEY_SECRET_ID`) once per environment: the
 * first caller starts the load, later callers share it, and a failed load is tried again by
 * the next caller instead of being remembered.
 */
export function pseudonymsFromSecret(
  secretId: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): () => Promise<Pseudonyms> {
  let loading: Promise<Pseudonyms> | undefined;
  return () => {
    loading ??= client
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then(({ SecretString }) => {
        if (!SecretString) throw new Error('The pseudonym key secret has no string value.');
        return new Pseudonyms(Buffer.from(SecretString, 'utf8'));
      })
      .catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
    return loading;
  };
}

/**
 * The pseudonym of a user for a log line, or `unavailable` (with a warning) if the key cannot
 * be loaded: a log field is not worth refusing a sign-in or a request for.
 */
export async function pseudonymForLogs(
  pseudonyms: () => Promise<Pseudonyms>,
  userId: string,
  logger: Logger,
): Promise<string> {
  try {
    return (await pseudonyms()).of(userId);
  } catch (error) {
    logger.warn('Pseudonym key unavailable', { errorName: (error as Error).name });
    return 'unavailable';
  }
}
