import { randomUUID } from 'node:crypto';
import {
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Context, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { type JWTPayload, SignJWT } from 'jose';
import { preTokenV2Event } from '../events.js';
import { lambdaContext } from '../lambda-context.js';

export interface IssueInput {
  readonly sub: string;
  readonly clientId: string;
  readonly scope: string;
  readonly expiresIn: number;
  readonly email?: string;
  /**
   * Why Cognito is issuing: a Managed Login sign-in (the default), a sign-in through the API,
   * or a refresh. The pre-token trigger heals a missing tenant on sign-ins only.
   */
  readonly triggerSource?:
    | 'TokenGeneration_HostedAuth'
    | 'TokenGeneration_Authentication'
    | 'TokenGeneration_RefreshTokens';
  /** Test-only shaping of the minted tokens (the authorizer's attack tests). */
  readonly notBeforeIn?: number;
  readonly claims?: Record<string, unknown>;
  readonly omitClaims?: readonly string[];
}

export type IssueResult =
  | {
      ok: true;
      tokens: { access_token: string; id_token: string; token_type: 'Bearer'; expires_in: number };
    }
  | { ok: false; description: string };

export interface TokenIssuerDeps {
  readonly issuer: () => string;
  readonly privateKey: Parameters<SignJWT['sign']>[0];
  readonly kid: string;
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  readonly preTokenGeneration: (
    event: PreTokenGenerationV2TriggerEvent,
    context: Context,
  ) => Promise<PreTokenGenerationV2TriggerEvent>;
}

/**
 * Issues Cognito-shaped access and ID tokens the way Cognito does after a sign-in: only to an
 * existing, enabled user, with the claims the real pre-token-generation (V2) handler adds, and
 * not at all when that handler refuses.
 */
export class TokenIssuer {
  constructor(private readonly deps: TokenIssuerDeps) {}

  /** Whether Cognito would issue tokens to this user now (the sign-in pages ask first). */
  async check(
    input: Pick<IssueInput, 'sub' | 'clientId' | 'scope' | 'triggerSource'>,
  ): Promise<{ ok: true } | { ok: false; description: string }> {
    const result = await this.shape({ ...input, expiresIn: 0 });
    return result.ok ? { ok: true } : result;
  }

  async issue(input: IssueInput): Promise<IssueResult> {
    const shaped = await this.shape(input);
    if (!shaped.ok) return shaped;
    const { details, email } = shaped;
    return this.sign(input, details, email);
  }

  private async shape(input: IssueInput): Promise<
    | {
        ok: true;
        details: PreTokenGenerationV2TriggerEvent['response']['claimsAndScopeOverrideDetails'];
        email: string;
      }
    | { ok: false; description: string }
  > {
    const user = await this.deps.cognito
      .send(new AdminGetUserCommand({ UserPoolId: this.deps.userPoolId, Username: input.sub }))
      .catch((error: Error) => {
        if (error.name === 'UserNotFoundException') return undefined;
        throw error;
      });
    if (!user) return { ok: false, description: 'User does not exist.' };
    if (!user.Enabled) return { ok: false, description: 'User is disabled.' };
    const email =
      input.email ??
      user.UserAttributes?.find((a) => a.Name === 'email')?.Value ??
      `${input.sub}@example.com`;

    let shaped: PreTokenGenerationV2TriggerEvent;
    try {
      // The user's attributes as the pool holds them (Cognito sends all of them).
      const attributes = Object.fromEntries(
        (user.UserAttributes ?? []).map((a) => [a.Name as string, a.Value ?? '']),
      );
      const event = preTokenV2Event({
        sub: input.sub,
        email,
        attributes: { ...attributes, 'cognito:user_status': user.UserStatus ?? 'CONFIRMED' },
        userPoolId: this.deps.userPoolId,
        clientId: input.clientId,
        scopes: input.scope.split(' '),
      });
      event.triggerSource = input.triggerSource ?? 'TokenGeneration_HostedAuth';
      shaped = await this.deps.preTokenGeneration(event, lambdaContext('pre-token-generation'));
    } catch (error) {
      // Cognito answers a refused trigger with an error naming the trigger and its message.
      return {
        ok: false,
        description: `PreTokenGeneration failed with error ${(error as Error).message}`,
      };
    }
    return { ok: true, details: shaped.response.claimsAndScopeOverrideDetails, email };
  }

  private async sign(
    input: IssueInput,
    details: PreTokenGenerationV2TriggerEvent['response']['claimsAndScopeOverrideDetails'],
    email: string,
  ): Promise<IssueResult> {
    const now = Math.floor(Date.now() / 1000);
    const common = {
      sub: input.sub,
      iss: this.deps.issuer(),
      auth_time: now,
      origin_jti: randomUUID(),
    };
    const sign = (claims: JWTPayload) => {
      const payload: JWTPayload = { ...claims, ...input.claims };
      for (const name of input.omitClaims ?? []) delete payload[name];
      const jwt = new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: this.deps.kid })
        .setIssuedAt(now)
        .setJti(randomUUID())
        .setExpirationTime(now + input.expiresIn);
      if (input.notBeforeIn !== undefined) jwt.setNotBefore(now + input.notBeforeIn);
      return jwt.sign(this.deps.privateKey);
    };
    return {
      ok: true,
      tokens: {
        access_token: await sign({
          ...common,
          token_use: 'access',
          client_id: input.clientId,
          scope: input.scope,
          username: input.sub,
          ...details.accessTokenGeneration?.claimsToAddOrOverride,
        }),
        id_token: await sign({
          ...common,
          token_use: 'id',
          aud: input.clientId,
          email,
          email_verified: true,
          'cognito:username': input.sub,
          ...details.idTokenGeneration?.claimsToAddOrOverride,
        }),
        token_type: 'Bearer',
        expires_in: input.expiresIn,
      },
    };
  }
}
