import { randomUUID } from 'node:crypto';
import { LOCAL_REGION } from '../iam/local-iam.js';
import type { Answer } from './protocol.js';

/** A message SES accepted, as the local outbox keeps it. */
export interface SentEmail {
  readonly messageId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly sentAt: number;
}

/**
 * SES refuses more than 50 recipients per message (To, Cc and Bcc together; the API reference's
 * limit). The error's name for it is not documented; this stand-in answers MessageRejected.
 */
const MAX_RECIPIENTS = 50;

class SesError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * Amazon SES v2 (REST JSON), as far as the reclaimer uses it: `SendEmail` (POST
 * /v2/email/outbound-emails) with simple content. As on AWS, a message is accepted only from a
 * verified identity, the address itself or its domain: anything else is refused with
 * `MessageRejected` ("Email address is not verified. The following identities failed the check
 * in region ...", Amazon SES developer guide, "Amazon SES email sending errors"), and in the
 * sandbox (`sandbox: true`) every recipient must be verified too. Identities are verified with
 * `verify` (the local stand-in for the console's verification link or DNS records). Accepted
 * messages go to an outbox tests read; nothing is delivered.
 */
export class SesStandIn {
  private readonly verified = new Set<string>();
  private readonly sent: SentEmail[] = [];

  constructor(private readonly options: { sandbox?: boolean } = {}) {}

  /** Marks an e-mail address or a domain as a verified identity of the (local) account. */
  verify(identity: string): void {
    // Domains are case-insensitive; an address identity is matched as it was verified (SES
    // documents verified addresses as case-sensitive).
    this.verified.add(identity.includes('@') ? identity : identity.toLowerCase());
  }

  /** Accepted messages, oldest first; those to `recipient` only when it is given. */
  outbox(recipient?: string): SentEmail[] {
    const wanted = recipient?.toLowerCase();
    return this.sent.filter(
      (message) => wanted === undefined || message.to.some((to) => to.toLowerCase() === wanted),
    );
  }

  snapshot() {
    return { verified: [...this.verified], sent: this.sent };
  }

  restore(state: ReturnType<SesStandIn['snapshot']> | undefined): void {
    for (const identity of state?.verified ?? []) this.verified.add(identity);
    this.sent.push(...(state?.sent ?? []));
  }

  handle(method: string, url: URL, input: Record<string, unknown>): Answer {
    try {
      if (method === 'POST' && url.pathname === '/v2/email/outbound-emails') {
        return {
          status: 200,
          body: JSON.stringify(this.sendEmail(input)),
          headers: { 'content-type': 'application/json' },
        };
      }
      throw new SesError('NotFoundException', `No such operation: ${method} ${url.pathname}`, 404);
    } catch (error) {
      if (!(error instanceof SesError)) throw error;
      return {
        status: error.status,
        body: JSON.stringify({ message: error.message }),
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.type },
      };
    }
  }

  private sendEmail(input: Record<string, unknown>): { MessageId: string } {
    const from = typeof input.FromEmailAddress === 'string' ? input.FromEmailAddress : '';
    const destination = (input.Destination ?? {}) as Record<string, unknown>;
    const to = addresses(destination.ToAddresses);
    const all = [
      ...to,
      ...addresses(destination.CcAddresses),
      ...addresses(destination.BccAddresses),
    ];
    const simple = ((input.Content ?? {}) as { Simple?: Record<string, unknown> }).Simple;
    const subject = (simple?.Subject as { Data?: unknown } | undefined)?.Data;
    const body = simple?.Body as
      | { Text?: { Data?: unknown }; Html?: { Data?: unknown } }
      | undefined;
    const text = body?.Text?.Data ?? body?.Html?.Data;
    if (!from || !/^[^@\s]+@[^@\s]+$/.test(bare(from))) {
      throw new SesError('BadRequestException', 'FromEmailAddress must be an e-mail address.');
    }
    if (all.length === 0) throw new SesError('BadRequestException', 'No recipient was given.');
    if (all.length > MAX_RECIPIENTS) {
      throw new SesError('MessageRejected', `Recipient count exceeds ${MAX_RECIPIENTS}.`);
    }
    if (!simple || typeof subject !== 'string' || typeof text !== 'string') {
      throw new SesError('BadRequestException', 'Simple content needs a subject and a body.');
    }
    const unverified = [from, ...(this.options.sandbox ? all : [])].filter(
      (address) => !this.isVerified(address),
    );
    if (unverified.length > 0) {
      throw new SesError(
        'MessageRejected',
        'Email address is not verified. The following identities failed the check in region ' +
          `${LOCAL_REGION.toUpperCase()}: ${unverified.map(bare).join(', ')}`,
      );
    }
    const message: SentEmail = {
      messageId: randomUUID(),
      from,
      to,
      subject,
      text,
      sentAt: Date.now(),
    };
    this.sent.push(message);
    return { MessageId: message.messageId };
  }

  /** Verified as itself or through its domain (SES accepts either identity). */
  private isVerified(address: string): boolean {
    const email = bare(address);
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    return this.verified.has(email) || this.verified.has(domain);
  }
}

function addresses(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The address of `Name <address>`, or the value as it is. */
function bare(address: string): string {
  return /<([^>]+)>\s*$/.exec(address)?.[1] ?? address;
}
