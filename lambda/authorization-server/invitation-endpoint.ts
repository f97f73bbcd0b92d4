import { SIGN_UP_RATE_LIMITED_MESSAGE } from '../shared/lifecycle/sign-up-limits.js';
import { INVALID_INVITATION } from '../shared/registry/invitations.js';
import { FacadeEndpoint, type FacadeOptions } from './endpoint.js';
import { type FacadeRequest, type FacadeResponse, formFields, html, singleValues } from './http.js';
import { invitationConfirmPage, invitationDonePage, invitationPage } from './pages.js';

/** The user pool's public sign-up, with the invitation's code as client metadata. */
export interface InvitationSignUp {
  signUp(email: string, password: string, invitation: string): Promise<void>;
  confirm(email: string, confirmationCode: string, invitation: string): Promise<void>;
  /** A new confirmation code (Cognito's ResendConfirmationCode). */
  resend(email: string): Promise<void>;
}

const CODE = /^[a-z0-9-]{1,48}\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/;

/**
 * The invitation page: the invited person signs up with the invited address and a password,
 * then confirms with the code Cognito e-mails. The invitation travels as the sign-up's client
 * metadata: the pre-sign-up trigger refuses an invalid one before an account exists, and the
 * post-confirmation trigger takes it, making the person a member of the inviting tenant. An
 * address that already has an account cannot accept (it belongs to an organisation already).
 * Messages concern only the person's own input; nothing here names a tenant.
 */
export class InvitationEndpoint extends FacadeEndpoint {
  constructor(
    options: FacadeOptions,
    private readonly signUps: InvitationSignUp,
  ) {
    super(options);
  }

  /** Where the pages' forms post: absolute, so a page shown again posts where the first did. */
  private get actions() {
    return { signUp: this.urls.invitation, confirm: this.urls.invitationConfirm };
  }

  page(request: FacadeRequest): FacadeResponse {
    const code = singleValues(request.query)?.code ?? '';
    if (!CODE.test(code)) return html(400, invitationPage('', this.actions, { error: NOT_VALID }));
    return html(200, invitationPage(code, this.actions));
  }

  async signUp(request: FacadeRequest): Promise<FacadeResponse> {
    const fields = formFields(request);
    const code = fields?.code ?? '';
    const email = (fields?.email ?? '').trim().toLowerCase();
    if (!CODE.test(code)) return html(400, invitationPage('', this.actions, { error: NOT_VALID }));
    try {
      await this.signUps.signUp(email, fields?.password ?? '', code);
    } catch (error) {
      return html(200, invitationPage(code, this.actions, { error: this.explain(error) }));
    }
    return html(200, invitationConfirmPage(code, email, this.actions));
  }

  async confirm(request: FacadeRequest): Promise<FacadeResponse> {
    const fields = formFields(request);
    const code = fields?.code ?? '';
    const email = (fields?.email ?? '').trim().toLowerCase();
    if (!CODE.test(code)) return html(400, invitationPage('', this.actions, { error: NOT_VALID }));
    if (fields?.resend === '1') {
      const notice = await this.signUps.resend(email).then(
        () => ({ notice: 'A new code was sent.' }),
        (error: unknown) => ({ error: this.explain(error) }),
      );
      return html(200, invitationConfirmPage(code, email, this.actions, notice));
    }
    try {
      await this.signUps.confirm(email, (fields?.confirmation ?? '').trim(), code);
    } catch (error) {
      return html(
        200,
        invitationConfirmPage(code, email, this.actions, { error: this.explain(error) }),
      );
    }
    return html(200, invitationDonePage(this.resource));
  }

  /** What the person may read about their own attempt; the rest goes to the log. */
  private explain(error: unknown): string {
    const { name = '', message = '' } = error as { name?: string; message?: string };
    this.options.logger.info('Invitation sign-up refused', { reason: name });
    switch (name) {
      case 'UserLambdaValidationException': {
        // "PreSignUp failed with error <the trigger's message>.": only the messages meant for
        // the person pass; anything else a trigger threw stays in the logs.
        const said = message.replace(/^\w+ failed with error /, '').replace(/\.$/, '');
        return [INVALID_INVITATION, UNAVAILABLE].some((known) => known.startsWith(said) && said)
          ? `${said}.`
          : GENERIC;
      }
      case 'ForbiddenException':
        // The web ACL's per-source rule (lib/constructs/sign-up-guard.ts): Cognito's only
        // ForbiddenException. This page's calls come from the façade's addresses.
        return SIGN_UP_RATE_LIMITED_MESSAGE;
      case 'UsernameExistsException':
        return 'This address already has an account, so it cannot accept an invitation. Ask for one to another address.';
      case 'InvalidPasswordException':
      case 'CodeMismatchException':
      case 'ExpiredCodeException':
      case 'LimitExceededException':
        return message;
      default:
        return GENERIC;
    }
  }
}

const NOT_VALID = 'This invitation link is not valid.';
const GENERIC = 'The sign-up could not be completed. Please try again.';
/** The pre-sign-up trigger's answer when it could not check the invitation. */
const UNAVAILABLE = 'Sign-up is unavailable at the moment. Please try again.';
