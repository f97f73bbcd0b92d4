import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';

/** A pre-token-generation V2 event as Cognito sends it for a user signing in. */
export function preTokenV2Event(user: {
  sub: string;
  userName?: string;
  email?: string;
  attributes?: Record<string, string>;
  userPoolId?: string;
  clientId?: string;
  scopes?: string[];
}): PreTokenGenerationV2TriggerEvent {
  return {
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'us-east-1',
    userPoolId: user.userPoolId ?? 'us-east-1_TEST00000',
    userName: user.userName ?? user.sub,
    callerContext: {
      awsSdkVersion: 'aws-sdk-unknown-unknown',
      clientId: user.clientId ?? 'test-client-id',
    },
    request: {
      userAttributes: {
        sub: user.sub,
        email: user.email ?? `${user.sub}@example.com`,
        email_verified: 'true',
        'cognito:user_status': 'CONFIRMED',
        ...user.attributes,
      },
      groupConfiguration: {
        groupsToOverride: [],
        iamRolesToOverride: [],
        preferredRole: undefined,
      },
      scopes: user.scopes ?? ['openid', 'email'],
    },
    response: { claimsAndScopeOverrideDetails: {} },
  };
}
