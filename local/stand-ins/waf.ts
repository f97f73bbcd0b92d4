import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isSignUpRequest,
  SIGN_UP_BLOCK_RESPONSE,
  SIGN_UP_LIMITS,
  type SourceRate,
} from '../../lambda/shared/lifecycle/sign-up-limits.js';
import type { Answer } from './protocol.js';

/** How many sources are remembered before those whose requests all left the window are dropped. */
const SWEEP_AT = 10_000;

/**
 * AWS WAF's rate-based rule aggregated by IP address, as lib/constructs/sign-up-guard.ts
 * configures it for sign-ups, for the local Cognito API (local/aws-stand-in-server.ts) and the
 * local Managed Login pages (local/oauth/authorization-server.ts). Like WAF it counts every
 * request that matches the scope-down statement, whatever becomes of it (blocked, refused by
 * Cognito or a trigger, or a success), over the trailing window, and blocks a source's requests
 * while its count is over the limit ("Applying rate limiting to requests in AWS WAF", AWS WAF
 * Developer Guide). WAF estimates the rate and acts some seconds late ("Rate-based rule
 * caveats"); this rule counts exactly and at once, so it never lets through what WAF would stop.
 */
export class RateBasedRule {
  /** The times of each source's latest requests, oldest first: no more than `limit + 1`. */
  private readonly sources = new Map<string, number[]>();

  constructor(
    readonly rate: SourceRate = SIGN_UP_LIMITS.perSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `source`: false when the source is now over the limit (block). */
  admit(source: string): boolean {
    const now = this.now();
    const since = now - this.rate.windowSeconds * 1000;
    const times = (this.sources.get(source) ?? []).filter((at) => at > since);
    times.push(now);
    // Whether more than `limit` requests fall in the window needs only the latest limit + 1.
    if (times.length > this.rate.limit + 1) times.splice(0, times.length - this.rate.limit - 1);
    this.sources.set(source, times);
    if (this.sources.size > SWEEP_AT) this.sweep(since);
    return times.length <= this.rate.limit;
  }

  private sweep(since: number): void {
    for (const [source, times] of this.sources) {
      if ((times.at(-1) ?? 0) <= since) this.sources.delete(source);
    }
  }
}

/**
 * The rule's rate from a `--sign-up-rate-limit` option: the web ACL's, or a higher limit for a
 * local stack whose test sign-ups stand for many people at many addresses.
 */
export function signUpRate(limit: string | undefined): SourceRate {
  if (limit === undefined) return SIGN_UP_LIMITS.perSource;
  const value = Number(limit);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--sign-up-rate-limit must be a whole number of at least 1, not "${limit}"`);
  }
  return { ...SIGN_UP_LIMITS.perSource, limit: value };
}

/** The web ACL's custom response to a blocked sign-up (SIGN_UP_BLOCK_RESPONSE). */
export const SIGN_UP_BLOCKED_ANSWER: Answer = {
  status: SIGN_UP_BLOCK_RESPONSE.status,
  body: SIGN_UP_BLOCK_RESPONSE.body,
  headers: { 'content-type': SIGN_UP_BLOCK_RESPONSE.contentType },
};

/**
 * The sign-up rule in front of a local server, as the web ACL is in front of the user pool:
 * counts the request if it is a sign-up (the rule's scope-down) from its TCP peer address, and
 * answers it with the block response when the peer is over the limit. True when it answered.
 */
export function blockedSignUp(
  rule: RateBasedRule,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): boolean {
  const target = req.headers['x-amz-target'];
  const request = {
    method: req.method ?? 'GET',
    path,
    ...(typeof target === 'string' ? { target } : {}),
  };
  if (!isSignUpRequest(request) || rule.admit(req.socket.remoteAddress ?? '')) return false;
  // The request's body is not wanted: read and dropped, so the client gets the answer.
  req.resume();
  res.writeHead(SIGN_UP_BLOCKED_ANSWER.status, SIGN_UP_BLOCKED_ANSWER.headers);
  res.end(SIGN_UP_BLOCKED_ANSWER.body);
  return true;
}
