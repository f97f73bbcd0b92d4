import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import {
  decideReclaim,
  type ReclaimDeps,
  reclaimIdleTenants,
} from '../../lambda/shared/lifecycle/reclaim.js';
import { noticeEmail, noticeRecipients } from '../../lambda/shared/lifecycle/reclaim-email.js';
import type { ReclaimNotice } from '../../lambda/shared/lifecycle/reclaim-notices.js';
import type { MembershipRecord } from '../../lambda/shared/registry/registry.js';

const DAY = 86_400_000;
const NOW = new Date('2027-06-01T12:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const settings = { idleDays: 90, noticeDays: 14 };

const tenant = (overrides: Partial<Parameters<typeof decideReclaim>[0]['tenant']> = {}) => ({
  tier: 'free' as const,
  status: 'ACTIVE' as const,
  createdAt: daysAgo(200),
  updatedAt: daysAgo(200),
  ...overrides,
});
const sentNotice = (sentDaysAgo: number, extra: Partial<ReclaimNotice> = {}): ReclaimNotice => ({
  tenantId: 'acme',
  state: 'SENT',
  claimId: 'c1',
  claimedAt: daysAgo(sentDaysAgo),
  sentAt: daysAgo(sentDaysAgo),
  removeAfter: daysAgo(sentDaysAgo - 14),
  recipients: 1,
  expiresAt: Math.ceil(NOW.getTime() / 1000) + 30 * 86_400,
  ...extra,
});
const decide = (input: Partial<Parameters<typeof decideReclaim>[0]>) =>
  decideReclaim({
    tenant: tenant(),
    notice: undefined,
    lastCallEnd: undefined,
    now: NOW,
    ...settings,
    ...input,
  }).action;

describe('reclaim decisions', () => {
  it('notices a free tenant that has not called a tool for longer than the idle period', () => {
    expect(decide({ lastCallEnd: NOW.getTime() - 91 * DAY })).toBe('notice');
  });

  it('notices a free tenant that never called, counting from its creation', () => {
    expect(decide({ tenant: tenant({ createdAt: daysAgo(91), updatedAt: daysAgo(91) }) })).toBe(
      'notice',
    );
    expect(decide({ tenant: tenant({ createdAt: daysAgo(89), updatedAt: daysAgo(89) }) })).toBe(
      'keep',
    );
  });

  it('keeps a free tenant that called within the idle period', () => {
    expect(decide({ lastCallEnd: NOW.getTime() - 89 * DAY })).toBe('keep');
  });

  it('counts a change to the record (a move down, a resume) as use', () => {
    expect(decide({ tenant: tenant({ updatedAt: daysAgo(3) }) })).toBe('keep');
  });

  it('never reclaims or notices a paid tenant, however long it is idle', () => {
    for (const tier of ['standard', 'premium'] as const) {
      expect(decide({ tenant: tenant({ tier }) })).toBe('keep');
      expect(decide({ tenant: tenant({ tier }), notice: sentNotice(30) })).toBe('keep');
    }
  });

  it('skips suspended, provisioning and deleted tenants', () => {
    for (const status of ['SUSPENDED', 'PROVISIONING', 'DELETED'] as const) {
      expect(decide({ tenant: tenant({ status }), notice: sentNotice(30) })).toBe('keep');
    }
  });

  it('leaves an offboarding it did not start to whoever started it', () => {
    expect(decide({ tenant: tenant({ status: 'OFFBOARDING' }), notice: sentNotice(30) })).toBe(
      'keep',
    );
    expect(decide({ tenant: tenant({ status: 'OFFBOARDING' }) })).toBe('keep');
  });

  it('resumes an offboarding its own reclaim started', () => {
    const notice = sentNotice(15, { reclaimingAt: daysAgo(1) });
    expect(decide({ tenant: tenant({ status: 'OFFBOARDING' }), notice })).toBe('resume');
  });

  it('waits while the notice period runs', () => {
    expect(decide({ notice: sentNotice(13) })).toBe('wait');
  });

  it('reclaims a tenant still unused when the notice period has passed', () => {
    expect(decide({ notice: sentNotice(14) })).toBe('reclaim');
    expect(decide({ notice: sentNotice(20), lastCallEnd: NOW.getTime() - 120 * DAY })).toBe(
      'reclaim',
    );
  });

  it('withdraws the notice when a tool was called after it', () => {
    const notice = sentNotice(15);
    const afterNotice = Date.parse(notice.sentAt as string) + 1;
    expect(decide({ notice, lastCallEnd: afterNotice })).toBe('clear');
  });

  it('keeps the removal date the notice promised even if the notice period was shortened', () => {
    const notice = sentNotice(10, { removeAfter: new Date(NOW.getTime() + 4 * DAY).toISOString() });
    expect(decide({ notice, noticeDays: 7 })).toBe('wait');
  });

  it('does not count a claim that was never sent as a notice', () => {
    const claim: ReclaimNotice = {
      tenantId: 'acme',
      state: 'SENDING',
      claimId: 'c2',
      claimedAt: daysAgo(30),
      expiresAt: Math.ceil(NOW.getTime() / 1000) + 86_400,
    };
    expect(decide({ notice: claim })).toBe('notice');
  });
});

describe('reclaim run without a notice sender', () => {
  it('notices and reclaims no one, reads nothing, and says why', async () => {
    const untouchable = () => {
      throw new Error('touched');
    };
    const logger = new Logger({ logLevel: 'SILENT' });
    const warn = vi.spyOn(logger, 'warn');
    const offboard = vi.fn(untouchable);
    const deps = {
      db: { send: untouchable },
      registryTableName: 'registry',
      registry: { listMembers: untouchable, getTenant: untouchable },
      usage: { lastCallEnd: untouchable },
      ses: { send: untouchable },
      offboard,
      logger,
      now: () => NOW,
    } as unknown as ReclaimDeps;

    for (const sender of [undefined, '']) {
      const report = await reclaimIdleTenants(deps, { ...settings, sender });

      expect(report).toMatchObject({ examined: 0, noticed: 0, reclaimed: 0 });
      expect(report.disabled).toMatch(/no notice sender/);
    }
    expect(offboard).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith(
      'Idle free tenants: nothing noticed or reclaimed',
      expect.objectContaining({ disabled: expect.stringMatching(/without notice/) }),
    );
  });
});

describe('the notice e-mail', () => {
  const member = (userSub: string, role: 'admin' | 'member', email?: string): MembershipRecord => ({
    userSub,
    tenantId: 'acme',
    role,
    ...(email === undefined ? {} : { email }),
    createdAt: daysAgo(100),
  });

  it('goes to the owner and the admins, each once, never to other members', () => {
    const recipients = noticeRecipients({ ownerSub: 'owner' }, [
      member('a1', 'admin', 'Ada@acme.example'),
      member('m1', 'member', 'mo@acme.example'),
      member('owner', 'member', 'owner@acme.example'),
      member('a2', 'admin', 'ada@acme.example'),
      member('a3', 'admin'),
      member('a4', 'admin', 'not an address'),
    ]);

    expect(recipients).toEqual(['owner@acme.example', 'Ada@acme.example']);
  });

  it('says which organisation, why, from when it will be removed and how to keep it', () => {
    const email = noticeEmail({
      tenant: { tenantId: 'acme-7f3a', name: 'Acme Inc.' },
      idleDays: 90,
      removeAfter: new Date('2027-06-15T12:00:00.000Z'),
      mcpUrl: 'https://api.example.com/v1/mcp',
    });

    expect(email.subject).toBe('"Acme Inc." will be removed on 2027-06-15 unless it is used');
    expect(email.text).toContain('"Acme Inc." (id acme-7f3a)');
    expect(email.text).toContain('for more than 90 days');
    expect(email.text).toContain('on or after 2027-06-15 (UTC)');
    expect(email.text).toMatch(/sign in with your MCP client and call any tool/);
    expect(email.text).toContain('MCP endpoint: https://api.example.com/v1/mcp');
  });

  it('keeps the subject on one line whatever an old record holds', () => {
    const email = noticeEmail({
      tenant: { tenantId: 'acme', name: 'Acme\r\nBcc: victim@example.com' },
      idleDays: 90,
      removeAfter: NOW,
    });

    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});
