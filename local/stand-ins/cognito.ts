import { randomBytes, randomInt, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { type Answer, AwsError, epochSeconds, json, jsonError } from './protocol.js';

type Trigger = (event: Record<string, unknown>) => Promise<unknown>;
export interface CognitoTriggers {
  readonly preSignUp?: Trigger;
  readonly postConfirmation?: Trigger;
}

interface User {
  readonly username: string;
  readonly attributes: Map<string, string>;
  status: 'UNCONFIRMED' | 'CONFIRMED' | 'FORCE_CHANGE_PASSWORD';
  enabled: boolean;
  passwordHash?: Buffer;
  salt: Buffer;
  code?: string;
  /** When the confirmation code was sent, and how many wrong codes were tried since. */
  codeSentAt?: number;
  codeAttempts?: number;
  /** When AdminUserGlobalSignOut last revoked the user's refresh tokens. */
  signedOutAt?: number;
  readonly createdAt: number;
}

const POOL_ID = 'us-east-1_local';
/**
 * A confirmation code lives 24 hours (documented) and is spent after 5 wrong tries. AWS does
 * not publish the number of tries, only that too many give LimitExceededException ("Attempt
 * limit exceeded, please try after some time"): 5 is this stand-in's assumption, and here only
 * a new code (ResendConfirmationCode, the page's "Send a new code") ends the lock.
 */
const CODE_TTL_MS = 24 * 3600 * 1000;
const CODE_ATTEMPTS = 5;
/** The pool's `tempPasswordValidity` (lib/constructs/identity.ts). */
const TEMPORARY_PASSWORD_MS = 3 * 24 * 3600 * 1000;

/**
 * The Cognito user pool calls the project makes or causes: self sign-up and confirmation
 * (running the real pre-sign-up and post-confirmation triggers the way Cognito does, and
 * answering their failures with `UserLambdaValidationException`), invitations with
 * AdminCreateUser, AdminGetUser, AdminDisableUser, AdminEnableUser, AdminUserGlobalSignOut (which
 * revokes the refresh tokens issued before it: see `refreshable`) and AdminDeleteUser. E-mail is not sent:
 * confirmation codes and temporary passwords go to the console (and to `lastMessage`).
 * Users are keyed by a generated username that is also their `sub`, with the e-mail as alias.
 */
export class CognitoStandIn {
  private readonly users = new Map<string, User>();
  readonly outbox = new Map<string, string>();

  constructor(private readonly triggers: () => Promise<CognitoTriggers>) {}

  snapshot() {
    return [...this.users.values()].map((user) => ({
      ...user,
      attributes: [...user.attributes],
      salt: user.salt.toString('base64'),
      passwordHash: user.passwordHash?.toString('base64'),
    }));
  }

  restore(state: ReturnType<CognitoStandIn['snapshot']>): void {
    for (const user of state) {
      this.users.set(user.username, {
        ...user,
        attributes: new Map(user.attributes),
        salt: Buffer.from(user.salt, 'base64'),
        passwordHash: user.passwordHash ? Buffer.from(user.passwordHash, 'base64') : undefined,
      });
    }
  }

  async handle(action: string, input: Record<string, unknown>): Promise<Answer> {
    try {
      return json(await this.dispatch(action, input));
    } catch (error) {
      if (error instanceof AwsError) return jsonError(error);
      throw error;
    }
  }

  /** The last message "e-mailed" to an address (local stand-in for the inbox). */
  lastMessage(email: string): string | undefined {
    return this.outbox.get(email.toLowerCase());
  }

  private async dispatch(action: string, input: Record<string, unknown>): Promise<unknown> {
    switch (action) {
      case 'SignUp': {
        const email = String(input.Username ?? '').toLowerCase();
        const attributes = attributeMap(input.UserAttributes, email);
        checkSchema(attributes);
        if (this.byEmail(email))
          throw new AwsError(
            'UsernameExistsException',
            'An account with the given email already exists.',
          );
        checkPassword(String(input.Password ?? ''));
        const username = randomUUID();
        await this.runTrigger('PreSignUp', 'preSignUp', {
          triggerSource: 'PreSignUp_SignUp',
          userName: username,
          request: {
            userAttributes: Object.fromEntries(attributes),
            validationData: {},
            // Cognito hands the SignUp call's ClientMetadata to the pre-sign-up trigger.
            ...clientMetadata(input),
          },
          response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
        });
        // Checked again after the trigger ran: two sign-ups of one address at once both passed
        // the first check while their triggers ran, and Cognito creates only one account.
        if (this.byEmail(email))
          throw new AwsError(
            'UsernameExistsException',
            'An account with the given email already exists.',
          );
        const user = this.store(username, attributes, 'UNCONFIRMED', String(input.Password));
        this.sendCode(user);
        return {
          UserConfirmed: false,
          UserSub: username,
          CodeDeliveryDetails: {
            Destination: maskEmail(email),
            DeliveryMedium: 'EMAIL',
            AttributeName: 'email',
          },
        };
      }
      case 'ConfirmSignUp': {
        const user = this.find(String(input.Username ?? ''));
        if (user.status !== 'UNCONFIRMED') {
          throw new AwsError(
            'NotAuthorizedException',
            `User cannot be confirmed. Current status is ${user.status}`,
          );
        }
        if ((user.codeAttempts ?? 0) >= CODE_ATTEMPTS) {
          // Until a new code is sent, every try is refused, the right code too.
          throw new AwsError(
            'LimitExceededException',
            'Attempt limit exceeded, please try after some time.',
          );
        }
        if (!user.code || Date.now() - (user.codeSentAt ?? 0) > CODE_TTL_MS) {
          throw new AwsError(
            'ExpiredCodeException',
            'Invalid code provided, please request a code again.',
          );
        }
        if (input.ConfirmationCode !== user.code) {
          user.codeAttempts = (user.codeAttempts ?? 0) + 1;
          if (user.codeAttempts >= CODE_ATTEMPTS) {
            // The code is spent: only a new one (ResendConfirmationCode) confirms the user.
            user.code = undefined;
            throw new AwsError(
              'LimitExceededException',
              'Attempt limit exceeded, please try after some time.',
            );
          }
          throw new AwsError(
            'CodeMismatchException',
            'Invalid verification code provided, please try again.',
          );
        }
        user.status = 'CONFIRMED';
        user.code = undefined;
        user.attributes.set('email_verified', 'true');
        await this.runTrigger('PostConfirmation', 'postConfirmation', {
          triggerSource: 'PostConfirmation_ConfirmSignUp',
          userName: user.username,
          request: {
            userAttributes: {
              ...Object.fromEntries(user.attributes),
              'cognito:user_status': 'CONFIRMED',
            },
            // And the ConfirmSignUp call's to the post-confirmation trigger.
            ...clientMetadata(input),
          },
          response: {},
        });
        return {};
      }
      case 'AdminCreateUser': {
        const email = String(input.Username ?? '').toLowerCase();
        if (this.byEmail(email))
          throw new AwsError('UsernameExistsException', 'User account already exists');
        const attributes = attributeMap(input.UserAttributes, email);
        checkSchema(attributes);
        const username = randomUUID();
        await this.runTrigger('PreSignUp', 'preSignUp', {
          triggerSource: 'PreSignUp_AdminCreateUser',
          userName: username,
          request: {
            userAttributes: Object.fromEntries(attributes),
            validationData: {},
            // Cognito hands the SignUp call's ClientMetadata to the pre-sign-up trigger.
            ...clientMetadata(input),
          },
          response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
        });
        const temporary = String(
          input.TemporaryPassword ?? `Tmp-${randomBytes(9).toString('base64url')}1!`,
        );
        // Again after the trigger, as for SignUp: one account per address, whatever raced.
        if (this.byEmail(email))
          throw new AwsError('UsernameExistsException', 'User account already exists');
        const user = this.store(username, attributes, 'FORCE_CHANGE_PASSWORD', temporary);
        if (input.MessageAction !== 'SUPPRESS') {
          this.send(email, `You are invited. Username ${email}, temporary password ${temporary}`);
        }
        return { User: this.present(user, 'Attributes') };
      }
      case 'ResendConfirmationCode': {
        const user = this.find(String(input.Username ?? ''));
        if (user.status !== 'UNCONFIRMED') {
          throw new AwsError('InvalidParameterException', 'User is already confirmed.');
        }
        this.sendCode(user);
        return {
          CodeDeliveryDetails: {
            Destination: maskEmail(user.attributes.get('email') ?? ''),
            DeliveryMedium: 'EMAIL',
            AttributeName: 'email',
          },
        };
      }
      case 'AdminGetUser': {
        const user = this.find(String(input.Username ?? ''));
        const { Attributes, ...rest } = this.present(user, 'Attributes');
        return { ...rest, UserAttributes: Attributes };
      }
      case 'AdminDisableUser':
      case 'AdminEnableUser':
        this.find(String(input.Username ?? '')).enabled = action === 'AdminEnableUser';
        return {};
      case 'AdminUserGlobalSignOut':
        // Cognito revokes every refresh token issued to the user so far.
        this.find(String(input.Username ?? '')).signedOutAt = Date.now();
        return {};
      case 'AdminDeleteUser':
        this.users.delete(this.find(String(input.Username ?? '')).username);
        return {};
      default:
        throw new AwsError(
          'InvalidParameterException',
          `Cognito stand-in does not implement ${action}`,
        );
    }
  }

  /**
   * Sign-in as the hosted pages do it: the user's sub, or the error Cognito would give.
   * Unknown users and wrong passwords get the same answer (no user enumeration).
   */
  signIn(
    usernameOrEmail: string,
    password: string,
    newPassword?: string,
  ): { sub: string } | { error: string; message: string } {
    const user = this.findOptional(usernameOrEmail);
    const hash = user?.passwordHash ? scryptSync(password, user.salt, 32) : undefined;
    if (!user?.passwordHash || !hash || !timingSafeEqual(hash, user.passwordHash)) {
      return { error: 'NotAuthorizedException', message: 'Incorrect username or password.' };
    }
    if (!user.enabled) return { error: 'NotAuthorizedException', message: 'User is disabled.' };
    if (user.status === 'UNCONFIRMED')
      return { error: 'UserNotConfirmedException', message: 'User is not confirmed.' };
    if (user.status === 'FORCE_CHANGE_PASSWORD') {
      // Cognito answers a temporary password with the NEW_PASSWORD_REQUIRED challenge, and
      // refuses one older than the pool's temporary password validity.
      if (Date.now() - user.createdAt > TEMPORARY_PASSWORD_MS) {
        return {
          error: 'NotAuthorizedException',
          message: 'Temporary password has expired and must be reset by an administrator.',
        };
      }
      if (!newPassword) {
        return { error: 'NEW_PASSWORD_REQUIRED', message: 'Choose a new password to continue.' };
      }
      try {
        checkPassword(newPassword);
      } catch (error) {
        return { error: 'InvalidPasswordException', message: (error as Error).message };
      }
      user.salt = randomBytes(16);
      user.passwordHash = scryptSync(newPassword, user.salt, 32);
      user.status = 'CONFIRMED';
    }
    return { sub: user.username };
  }

  private sendCode(user: User): void {
    user.code = String(randomInt(100_000, 1_000_000));
    user.codeSentAt = Date.now();
    user.codeAttempts = 0;
    this.send(user.attributes.get('email') ?? '', `Your verification code is ${user.code}`);
  }

  /**
   * Whether a refresh token issued at `issuedAt` may still be redeemed: Cognito refuses one
   * whose user is gone or disabled, or was signed out globally after it was issued.
   */
  refreshable(sub: string, issuedAt: number): boolean {
    const user = this.users.get(sub);
    return !!user && user.enabled && issuedAt > (user.signedOutAt ?? 0);
  }

  private async runTrigger(
    name: string,
    key: keyof CognitoTriggers,
    event: Record<string, unknown>,
  ) {
    const trigger = (await this.triggers())[key];
    if (!trigger) return;
    try {
      await trigger({
        version: '1',
        region: 'us-east-1',
        userPoolId: POOL_ID,
        callerContext: { awsSdkVersion: 'local', clientId: 'local-mcp-client' },
        ...event,
      });
    } catch (error) {
      throw new AwsError(
        'UserLambdaValidationException',
        `${name} failed with error ${(error as Error).message}.`,
      );
    }
  }

  private store(
    username: string,
    attributes: Map<string, string>,
    status: User['status'],
    password: string,
  ): User {
    attributes.set('sub', username);
    const salt = randomBytes(16);
    const user: User = {
      username,
      attributes,
      status,
      enabled: true,
      salt,
      passwordHash: scryptSync(password, salt, 32),
      createdAt: Date.now(),
    };
    this.users.set(username, user);
    return user;
  }

  private send(email: string, message: string): void {
    this.outbox.set(email.toLowerCase(), message);
    process.stderr.write(`[cognito stand-in] e-mail to ${email}: ${message}\n`);
  }

  private byEmail(email: string): User | undefined {
    return [...this.users.values()].find((u) => u.attributes.get('email') === email.toLowerCase());
  }

  private findOptional(reference: string): User | undefined {
    return this.users.get(reference) ?? this.byEmail(reference);
  }

  private find(reference: string): User {
    const user = this.findOptional(reference);
    if (!user) throw new AwsError('UserNotFoundException', 'User does not exist.');
    return user;
  }

  private present(user: User, attributesKey: 'Attributes') {
    return {
      Username: user.username,
      [attributesKey]: [...user.attributes].map(([Name, Value]) => ({ Name, Value })),
      UserCreateDate: epochSeconds(user.createdAt),
      UserLastModifiedDate: epochSeconds(user.createdAt),
      Enabled: user.enabled,
      UserStatus: user.status,
    };
  }
}

/** A call's ClientMetadata as the triggers receive it (string values only, as Cognito takes). */
function clientMetadata(input: Record<string, unknown>): {
  clientMetadata?: Record<string, string>;
} {
  const metadata = input.ClientMetadata;
  if (metadata === undefined) return {};
  if (
    typeof metadata !== 'object' ||
    metadata === null ||
    Object.values(metadata).some((value) => typeof value !== 'string')
  ) {
    throw new AwsError('InvalidParameterException', 'ClientMetadata must map strings to strings');
  }
  return { clientMetadata: metadata as Record<string, string> };
}

function attributeMap(list: unknown, email: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const { Name, Value } of (list as Array<{ Name: string; Value: string }>) ?? []) {
    attributes.set(Name, Value);
  }
  attributes.set('email', email);
  return attributes;
}

/** The user pool's attribute schema (lib/constructs/identity.ts), checked before any trigger. */
function checkSchema(attributes: Map<string, string>): void {
  const organization = attributes.get('custom:organization');
  if (organization !== undefined && (organization.length < 1 || organization.length > 100)) {
    throw new AwsError(
      'InvalidParameterException',
      'Attribute custom:organization must be between 1 and 100 characters long',
    );
  }
}

/** The user pool's password policy (lib/constructs/identity.ts). */
function checkPassword(password: string): void {
  const ok =
    password.length >= 12 &&
    /[a-z]/.test(password) &&
    /[A-Z]/.test(password) &&
    /\d/.test(password) &&
    /[^A-Za-z0-9]/.test(password);
  if (!ok) {
    throw new AwsError(
      'InvalidPasswordException',
      'Password did not conform with policy: at least 12 characters with upper and lower case letters, a number and a symbol',
    );
  }
}

function maskEmail(email: string): string {
  const [name, domain] = email.split('@');
  return `${name?.[0] ?? ''}***@${domain?.[0] ?? ''}***`;
}
