import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import * as z from 'zod';
import type { MembershipRecord, TenantRecord } from '../registry/registry.js';

/** SES takes at most 50 recipients per message (To, Cc and Bcc together). */
const MAX_RECIPIENTS = 50;
const Email = z.email().max(254);

export interface NoticeEmail {
  readonly subject: string;
  readonly text: string;
}

/**
 * Who is told: the tenant's admins and the member whose sign-up created it (its owner), by the
 * e-mail address their membership records; each address once, the owner first.
 */
export function noticeRecipients(
  tenant: Pick<TenantRecord, 'ownerSub'>,
  members: readonly MembershipRecord[],
): string[] {
  const addresses = new Map<string, string>();
  const ordered = [...members].sort(
    (a, b) => Number(b.userSub === tenant.ownerSub) - Number(a.userSub === tenant.ownerSub),
  );
  for (const member of ordered) {
    if (member.role !== 'admin' && member.userSub !== tenant.ownerSub) continue;
    const parsed = Email.safeParse(member.email);
    if (!parsed.success) continue;
    const key = parsed.data.toLowerCase();
    if (!addresses.has(key)) addresses.set(key, parsed.data);
  }
  return [...addresses.values()].slice(0, MAX_RECIPIENTS);
}

/**
 * The notice, in plain text: which organisation, why, the date from which it will be removed,
 * and that signing in and calling any tool keeps it. It names only this tenant (its name and id)
 * and the service's own URL: nothing of any other tenant, of its data or of its members.
 */
export function noticeEmail(input: {
  tenant: Pick<TenantRecord, 'tenantId' | 'name'>;
  idleDays: number;
  removeAfter: Date;
  /** The MCP endpoint, if known, so the reader knows where to sign in. */
  mcpUrl?: string;
}): NoticeEmail {
  // The name passed the organisation-name rule (no control characters); the subject is one
  // line whatever an older record holds.
  const name = input.tenant.name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').trim();
  const date = input.removeAfter.toISOString().slice(0, 10);
  return {
    subject: `"${name}" will be removed on ${date} unless it is used`,
    text: [
      'Hello,',
      '',
      `The organisation "${name}" (id ${input.tenant.tenantId}) is on the free tier and no one ` +
        `has called any of its tools for more than ${input.idleDays} days. Free organisations ` +
        'that are not used are removed, so that sign-ups nobody uses cost nothing.',
      '',
      `It will be removed on or after ${date} (UTC): its members will lose access and ` +
        'everything it holds will be deleted for good.',
      '',
      'To keep it, sign in with your MCP client and call any tool (whoami will do) before that ' +
        'date. Nothing else is needed, and no further message will follow if you do.',
      ...(input.mcpUrl ? ['', `MCP endpoint: ${input.mcpUrl}`] : []),
      '',
      `You receive this message because you are an admin of "${name}".`,
    ].join('\n'),
  };
}

/** Sends the notice through Amazon SES (v2 SendEmail) from the verified `sender`. */
export async function sendNotice(
  ses: SESv2Client,
  sender: string,
  recipients: readonly string[],
  email: NoticeEmail,
): Promise<string | undefined> {
  const { MessageId } = await ses.send(
    new SendEmailCommand({
      FromEmailAddress: sender,
      Destination: { ToAddresses: [...recipients] },
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
        },
      },
    }),
  );
  return MessageId;
}
