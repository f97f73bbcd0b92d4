import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  signUpCounterExpiry,
  signUpCounterKey,
  signUpDay,
} from '../../lambda/shared/lifecycle/sign-up-cap.js';
import {
  isSignUpRequest,
  SIGN_UP_LIMITS,
  signUpAlarmThreshold,
  sourceRateProblem,
} from '../../lambda/shared/lifecycle/sign-up-limits.js';
import { readAppConfig } from '../../lib/config.js';
import { RateBasedRule, signUpRate } from '../../local/stand-ins/waf.js';

const MINUTE = 60_000;

describe('the daily counter of self sign-ups', () => {
  it('counts a sign-up at 23:59:59.999 UTC towards that day, and one a millisecond later towards the next', () => {
    expect(signUpDay(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(signUpDay(new Date('2027-01-01T00:00:00.000Z'))).toBe('2027-01-01');
    expect(signUpCounterKey('2026-12-31')).toEqual({ pk: 'SIGNUPS#2026-12-31', sk: 'SELF' });
    expect(signUpCounterKey('2027-01-01')).toEqual({ pk: 'SIGNUPS#2027-01-01', sk: 'SELF' });
  });

  it('takes the UTC day whatever the clock offset of the date given', () => {
    // 00:30 in Paris on 1 January is still 31 December in UTC.
    expect(signUpDay(new Date('2027-01-01T00:30:00+01:00'))).toBe('2026-12-31');
    expect(signUpDay(new Date('2026-12-31T20:00:00-05:00'))).toBe('2027-01-01');
  });

  it('lets a day expire (TTL, epoch seconds) a full day after it ends, never during it', () => {
    const expiry = signUpCounterExpiry('2026-12-31');

    expect(expiry).toBe(Date.parse('2027-01-02T00:00:00Z') / 1000);
    expect(expiry * 1000).toBeGreaterThan(Date.parse('2026-12-31T23:59:59.999Z'));
    expect(Number.isInteger(expiry)).toBe(true);
  });
});

describe('the sign-up limits', () => {
  it('are a rate WAF accepts: 10 per source per 5 minutes, a cap of 200 a day, an alarm at 80 %', () => {
    expect(SIGN_UP_LIMITS.perSource).toEqual({ limit: 10, windowSeconds: 300 });
    expect(sourceRateProblem(SIGN_UP_LIMITS.perSource)).toBeUndefined();
    expect(sourceRateProblem({ limit: 9, windowSeconds: 300 })).toMatch(/at least 10/);
    expect(sourceRateProblem({ limit: 10, windowSeconds: 30 as 60 })).toMatch(/60, 120/);
    expect(signUpAlarmThreshold(200)).toBe(160);
    expect(signUpAlarmThreshold(1)).toBe(1);
  });

  it('take the daily cap from `-c signUpDailyCap`, 200 by default, refusing a cap below 1', () => {
    const config = (context: Record<string, unknown>) => readAppConfig(new App({ context }).node);

    expect(config({}).signUpDailyCap).toBe(200);
    expect(config({ signUpDailyCap: '50' }).signUpDailyCap).toBe(50);
    expect(() => config({ signUpDailyCap: '0' })).toThrow(/context "signUpDailyCap"/);
    expect(() => config({ signUpDailyCap: 'lots' })).toThrow(/context "signUpDailyCap"/);
  });

  it.each([
    [
      'the API SignUp',
      { method: 'POST', path: '/', target: 'AWSCognitoIdentityProviderService.SignUp' },
    ],
    [
      'the API SignUp in another case',
      { method: 'POST', path: '/', target: 'awscognitoidentityproviderservice.SIGNUP' },
    ],
    ["Managed Login's sign-up post", { method: 'POST', path: '/signup' }],
    ['a sign-up post with another case or a suffix', { method: 'post', path: '/SignUp/' }],
  ])('counts %s', (_, request) => {
    expect(isSignUpRequest(request)).toBe(true);
  });

  it.each([
    ['the sign-up page itself (GET)', { method: 'GET', path: '/signup' }],
    [
      'ConfirmSignUp',
      { method: 'POST', path: '/', target: 'AWSCognitoIdentityProviderService.ConfirmSignUp' },
    ],
    [
      'InitiateAuth',
      { method: 'POST', path: '/', target: 'AWSCognitoIdentityProviderService.InitiateAuth' },
    ],
    ['the confirmation form', { method: 'POST', path: '/confirm' }],
    ['the sign-in form', { method: 'POST', path: '/login' }],
  ])('does not count %s', (_, request) => {
    expect(isSignUpRequest(request)).toBe(false);
  });
});

describe('the local rate-based rule (the web ACL in front of local Cognito)', () => {
  const clock = (start = Date.parse('2026-12-01T12:00:00Z')) => {
    let now = start;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('admits 10 sign-ups from a source in 5 minutes and blocks the 11th', () => {
    const rule = new RateBasedRule(SIGN_UP_LIMITS.perSource, clock().now);
    const answers = Array.from({ length: 11 }, () => rule.admit('198.51.100.7'));

    expect(answers.slice(0, 10)).toEqual(Array(10).fill(true));
    expect(answers[10]).toBe(false);
  });

  it('keeps counting per source: another address is not held back by a flood', () => {
    const rule = new RateBasedRule(SIGN_UP_LIMITS.perSource, clock().now);
    for (let i = 0; i < 50; i += 1) rule.admit('198.51.100.7');

    expect(rule.admit('203.0.113.9')).toBe(true);
    expect(rule.admit('198.51.100.7')).toBe(false);
  });

  it('admits the source again once its requests have left the trailing window', () => {
    const time = clock();
    const rule = new RateBasedRule(SIGN_UP_LIMITS.perSource, time.now);
    for (let i = 0; i < 10; i += 1) {
      rule.admit('198.51.100.7');
      time.advance(10_000);
    }
    // 100 s after the first: 10 in the window, so the 11th is blocked...
    expect(rule.admit('198.51.100.7')).toBe(false);
    // ...until the first requests are more than 5 minutes old (a sliding window, not a fixed one).
    time.advance(5 * MINUTE - 100_000);
    expect(rule.admit('198.51.100.7')).toBe(false);
    time.advance(20_001);
    expect(rule.admit('198.51.100.7')).toBe(true);
  });

  it('counts the requests it blocks, as WAF does, so a source that keeps flooding stays blocked', () => {
    const time = clock();
    const rule = new RateBasedRule(SIGN_UP_LIMITS.perSource, time.now);
    for (let i = 0; i < 10; i += 1) rule.admit('198.51.100.7');
    // A request every 20 s for 10 minutes (15 in any 5 minutes), each one blocked: had blocked
    // requests not counted, the source would be let in again 5 minutes after its first ten.
    const later: boolean[] = [];
    for (let i = 0; i < 30; i += 1) {
      time.advance(20_000);
      later.push(rule.admit('198.51.100.7'));
    }

    expect(later).toEqual(Array(30).fill(false));
  });

  it('takes a higher limit for a shared test stack, never a malformed one', () => {
    expect(signUpRate(undefined)).toEqual(SIGN_UP_LIMITS.perSource);
    expect(signUpRate('1000')).toEqual({ limit: 1000, windowSeconds: 300 });
    expect(() => signUpRate('many')).toThrow(/--sign-up-rate-limit/);
    expect(() => signUpRate('0')).toThrow(/--sign-up-rate-limit/);
  });
});
