import { describe, expect, it } from 'vitest';
import { SesStandIn } from '../../local/stand-ins/ses.js';

const SEND = new URL('http://127.0.0.1/v2/email/outbound-emails');
const message = (from: string, to: string[]) => ({
  FromEmailAddress: from,
  Destination: { ToAddresses: to },
  Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Body' } } } },
});
const errorType = (answer: { headers?: Record<string, string> }) =>
  answer.headers?.['x-amzn-errortype'];

describe('SES v2 stand-in', () => {
  it('refuses a sender that is not a verified identity, as SES does (MessageRejected)', () => {
    const ses = new SesStandIn();

    const answer = ses.handle('POST', SEND, message('no-reply@example.com', ['a@acme.example']));

    expect(answer.status).toBe(400);
    expect(errorType(answer)).toBe('MessageRejected');
    expect(JSON.parse(answer.body).message).toMatch(
      /Email address is not verified.*no-reply@example.com/,
    );
    expect(ses.outbox()).toEqual([]);
  });

  it('accepts a verified address or any address of a verified domain, into the outbox', () => {
    const ses = new SesStandIn();
    ses.verify('no-reply@example.com');
    ses.verify('Notices.Example.Org');

    const first = ses.handle('POST', SEND, message('no-reply@example.com', ['a@acme.example']));
    const second = ses.handle(
      'POST',
      SEND,
      message('Ops <ops@notices.example.org>', ['b@x.example']),
    );

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(JSON.parse(first.body).MessageId).toEqual(expect.any(String));
    expect(ses.outbox('A@acme.example')).toMatchObject([
      { from: 'no-reply@example.com', to: ['a@acme.example'], subject: 'Hello', text: 'Body' },
    ]);
    expect(ses.outbox()).toHaveLength(2);
  });

  it('matches a verified address exactly, not another address of its domain', () => {
    const ses = new SesStandIn();
    ses.verify('no-reply@example.com');

    const answer = ses.handle('POST', SEND, message('admin@example.com', ['a@acme.example']));

    expect(errorType(answer)).toBe('MessageRejected');
  });

  it('in the sandbox, refuses recipients that are not verified either', () => {
    const ses = new SesStandIn({ sandbox: true });
    ses.verify('no-reply@example.com');

    const answer = ses.handle('POST', SEND, message('no-reply@example.com', ['a@acme.example']));

    expect(errorType(answer)).toBe('MessageRejected');
    expect(JSON.parse(answer.body).message).toContain('a@acme.example');
  });

  it.each([
    ['no recipient', message('no-reply@example.com', [])],
    [
      'no content',
      { FromEmailAddress: 'no-reply@example.com', Destination: { ToAddresses: ['a@b.c'] } },
    ],
    ['no sender', { ...message('no-reply@example.com', ['a@b.c']), FromEmailAddress: undefined }],
  ])('refuses a request with %s', (_, input) => {
    const ses = new SesStandIn();
    ses.verify('example.com');

    expect(errorType(ses.handle('POST', SEND, input))).toBe('BadRequestException');
  });

  it('refuses more than 50 recipients', () => {
    const ses = new SesStandIn();
    ses.verify('example.com');
    const many = Array.from({ length: 51 }, (_, i) => `r${i}@acme.example`);

    expect(errorType(ses.handle('POST', SEND, message('a@example.com', many)))).toBe(
      'MessageRejected',
    );
  });
});
