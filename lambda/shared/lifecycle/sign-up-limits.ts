/**
 * The limits on sign-ups, written once for every place that applies them:
 * - per source address: AWS WAF's rate-based rule on the user pool
 *   (lib/constructs/sign-up-guard.ts), and its local equivalent in front of the local Cognito API
 *   and Managed Login pages (local/stand-ins/waf.ts);
 * - per UTC day: the pre-sign-up trigger counts self sign-ups (sign-up-cap.ts) and refuses those
 *   past the cap, and an alarm (lib/constructs/observability.ts) fires before the cap is reached.
 *
 * Unconfirmed sign-ups create nothing that costs money (provisioning starts at
 * post-confirmation): these limits keep a flood from spending the pool's e-mail allowance and
 * the trigger's invocations, and keep confirmed floods from reaching the Region's quotas.
 */

/** Evaluation windows (seconds) a WAF rate-based rule accepts; 300 is WAF's default. */
export const WAF_EVALUATION_WINDOWS = [60, 120, 300, 600] as const;
export type WafEvaluationWindow = (typeof WAF_EVALUATION_WINDOWS)[number];
/** The lowest limit a WAF rate-based rule accepts. */
export const WAF_MINIMUM_RATE_LIMIT = 10;

/** Requests one source address may make within a trailing window (a WAF rate-based rule). */
export interface SourceRate {
  readonly limit: number;
  readonly windowSeconds: WafEvaluationWindow;
}

export const SIGN_UP_LIMITS = {
  /** Sign-up requests per source address per 5 minutes: a household or an office, not a script. */
  perSource: { limit: 10, windowSeconds: 300 },
  /** Self sign-ups per UTC day (invited ones are not counted); `-c signUpDailyCap` overrides. */
  dailyCap: 200,
  /** The share of the daily cap at which the alarm fires. */
  alarmShare: 0.8,
} as const satisfies {
  perSource: SourceRate;
  dailyCap: number;
  alarmShare: number;
};

/** Self sign-ups in a day at which the alarm fires: 80 % of the cap, at least 1. */
export function signUpAlarmThreshold(dailyCap: number): number {
  return Math.max(1, Math.ceil(dailyCap * SIGN_UP_LIMITS.alarmShare));
}

/** Why a rate is not one WAF accepts, if it is not. */
export function sourceRateProblem(rate: SourceRate): string | undefined {
  if (!Number.isInteger(rate.limit) || rate.limit < WAF_MINIMUM_RATE_LIMIT) {
    return `the limit must be a whole number of at least ${WAF_MINIMUM_RATE_LIMIT} (WAF's minimum)`;
  }
  if (!WAF_EVALUATION_WINDOWS.includes(rate.windowSeconds)) {
    return `the window must be one of ${WAF_EVALUATION_WINDOWS.join(', ')} seconds`;
  }
  return undefined;
}

/** What a person refused by the per-source rule reads. */
export const SIGN_UP_RATE_LIMITED_MESSAGE =
  'Too many sign-ups from your network. Please wait a few minutes and try again.';
/** What a person refused by the daily cap reads: generic, it says nothing of the numbers. */
export const SIGN_UP_PAUSED_MESSAGE = 'Sign-ups are paused for today. Please try again tomorrow.';

/**
 * The answer to a refused sign-up request: the web ACL's custom response, and the local
 * stand-ins' answer. Cognito lets a block on its API set the body and a status in 400-499; the
 * AWS SDKs report it as `ForbiddenException`, which the body's `__type` names too, so an SDK
 * reading either shows the message.
 */
export const SIGN_UP_BLOCK_RESPONSE = {
  status: 429,
  /** The key of the body among the web ACL's custom response bodies. */
  bodyKey: 'SignUpRateLimited',
  contentType: 'application/json',
  body: JSON.stringify({ __type: 'ForbiddenException', message: SIGN_UP_RATE_LIMITED_MESSAGE }),
} as const;

/**
 * The requests the per-source rule counts (the rule's scope-down statement): the Cognito API's
 * SignUp, named by the AWS JSON protocol's `X-Amz-Target` header, and Managed Login's sign-up
 * form, which posts to `/signup` on the user pool's domain (one path for both branding
 * versions). Compared lowercased, as the web ACL does, so a changed case is still counted.
 */
export const SIGN_UP_REQUESTS = {
  apiTarget: 'AWSCognitoIdentityProviderService.SignUp',
  pagePath: '/signup',
  pageMethod: 'POST',
} as const;

/** Whether the per-source rule counts this request (the scope-down, for the local stand-ins). */
export function isSignUpRequest(request: {
  readonly method?: string;
  readonly path: string;
  readonly target?: string;
}): boolean {
  const { apiTarget, pagePath, pageMethod } = SIGN_UP_REQUESTS;
  return (
    (request.target ?? '').toLowerCase() === apiTarget.toLowerCase() ||
    ((request.method ?? '').toUpperCase() === pageMethod &&
      request.path.toLowerCase().startsWith(pagePath))
  );
}
