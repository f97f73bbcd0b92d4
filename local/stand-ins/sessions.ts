import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What an STS session issued by the stand-in carries, like the real session's context. */
export interface Session {
  readonly accessKeyId: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Who signed a request: an STS session of the stand-in, the operator's own credentials (no
 * session token), or a session token that is not valid, which IAM refuses outright.
 */
export type Caller =
  | { readonly session: Session }
  | { readonly operator: true }
  | { readonly refused: string };

/**
 * Issues and checks session tokens for the stand-in's STS: the token is the session itself,
 * signed with a key that lives only in this process, so a token cannot be forged or edited
 * (for example to change its TenantId tag) without the stand-in noticing.
 */
export class SessionIssuer {
  private readonly key = randomBytes(32);

  issue(session: Omit<Session, 'accessKeyId'>): {
    session: Session;
    token: string;
    secret: string;
  } {
    const full: Session = {
      ...session,
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    };
    const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
    return {
      session: full,
      token: `${payload}.${this.sign(payload)}`,
      secret: randomBytes(30).toString('base64'),
    };
  }

  /** The session a token stands for, or a reason it stands for none. */
  verify(token: string, now = Date.now()): Session | { invalid: string } {
    const [payload, signature] = token.split('.');
    if (!payload || !signature) return { invalid: 'malformed session token' };
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return { invalid: 'session token signature does not match' };
    }
    const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
    if (session.expiresAt <= now) return { invalid: 'session expired' };
    return session;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
