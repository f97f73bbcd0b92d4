import {
  type CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { InvitationSignUp } from './invitation-endpoint.js';

/**
 * Cognito's public SignUp and ConfirmSignUp for the façade's app client (no secret), with the
 * invitation's code as client metadata: Cognito hands it to the pre-sign-up trigger (from
 * SignUp) and to the post-confirmation trigger (from ConfirmSignUp).
 */
export function invitationSignUp(
  cognito: CognitoIdentityProviderClient,
  clientId: string,
): InvitationSignUp {
  return {
    async signUp(email, password, invitation) {
      await cognito.send(
        new SignUpCommand({
          ClientId: clientId,
          Username: email,
          Password: password,
          UserAttributes: [{ Name: 'email', Value: email }],
          ClientMetadata: { invitation },
        }),
      );
    },
    async resend(email) {
      await cognito.send(
        new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }),
      );
    },
    async confirm(email, confirmationCode, invitation) {
      await cognito.send(
        new ConfirmSignUpCommand({
          ClientId: clientId,
          Username: email,
          ConfirmationCode: confirmationCode,
          ClientMetadata: { invitation },
        }),
      );
    },
  };
}
