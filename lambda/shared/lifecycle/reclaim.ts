import type { Logger } from '@aws-lambda-powertools/logger';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ACCESS_DRAIN_SECONDS } from '../edge/api-contract.js';
import type { TierName } from '../fair-use/tiers.js';
import type { UsageMeter } from '../fair-use/usage-meter.js';
import { errorFields } from '../platform/observability.js';
import { REGISTRY_TABLE } from '../platform/table-schema.js';
import {
  type TenantRecord,
  TenantRecordSchema,
  type TenantRegistry,
} from '../registry/registry.js';
import { noticeEmail, noticeRecipients, sendNotice } from './reclaim-email.js';
import { isSent, type ReclaimNotice, ReclaimNotices, type SentNotice } from './reclaim-notices.js';
import { RECLAIM_DEFAULTS } from './reclaim-settings.js';

/**
 * Reclaiming idle free tenants: a free tenant that nobody has used (no tool call, and no change
 * to its record) for `idleDays` gets an e-mail notice; if it is still unused `noticeDays` after
 * the notice, it is offboarded (TenantAdmin.offboard). A tool call after the notice withdraws it.
 * Paid tiers are never reclaimed, and no tenant is reclaimed without a notice that was sent.
 */

/** The tiers whose tenants are reclaimed when idle: the free one, and only it. */
export const RECLAIMABLE_TIERS: readonly TierName[] = ['free'];

const DAY_MS = 86_400_000;
/** How long a notice claim protects a sending run: longer than any run (Lambda's 15 min). */
const CLAIM_LEASE_MS = 16 * 60_000;
/** Tenants examined at once (two small reads each), and offboardings run at once. */
const EXAMINE_CONCURRENCY = 8;
const OFFBOARD_CONCURRENCY = 5;

export interface ReclaimSettings {
  readonly idleDays: number;
  readonly noticeDays: number;
  /**
   * The verified SES identity notices are sent from. Without one, nothing is reclaimed: no
   * tenant is removed without notice.
   */
  readonly sender?: string | undefined;
  /** Tenants noticed or reclaimed in one run at most. @default RECLAIM_DEFAULTS.maxTenantsPerRun */
  readonly maxTenantsPerRun?: number;
  /** The MCP endpoint, named in the notice. */
  readonly mcpUrl?: string | undefined;
}

export interface ReclaimDeps {
  /** The registry table (tenant pages, notices) on the reclaimer's credentials. */
  readonly db: DynamoDBDocumentClient;
  readonly registryTableName: string;
  /** Member lists (who to tell). */
  readonly registry: TenantRegistry;
  /** Last tool calls, from what metering keeps. */
  readonly usage: UsageMeter;
  readonly ses: SESv2Client;
  /** TenantAdmin.offboard: resumable, ends in DELETED. */
  readonly offboard: (tenantId: string) => Promise<void>;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Time left in this run (the Lambda context's): new work starts only while enough is left. */
  readonly remainingMs?: () => number;
  /**
   * Time one offboarding needs: its drain wait plus its deletes. No offboarding starts with less
   * left. @default ACCESS_DRAIN_SECONDS + 2 minutes
   */
  readonly offboardBudgetMs?: number;
}

export type ReclaimAction =
  | 'keep'
  | 'notice'
  | 'wait'
  | 'clear'
  | 'reclaim'
  /** An offboarding this reclaimer started and a crash interrupted. */
  | 'resume';

export interface ReclaimDecision {
  readonly action: ReclaimAction;
  readonly reason: string;
}

/**
 * What to do with one tenant, decided from its record, its notice and its last tool call (the
 * end of the day of its last metered call). The tenant's creation and its record's last change
 * (a move down from a paid tier, a resume after a suspension) count as use too.
 */
export function decideReclaim(input: {
  tenant: Pick<TenantRecord, 'tier' | 'status' | 'createdAt' | 'updatedAt'>;
  notice: ReclaimNotice | undefined;
  lastCallEnd: number | undefined;
  now: Date;
  idleDays: number;
  noticeDays: number;
}): ReclaimDecision {
  const { tenant, notice } = input;
  if (tenant.status === 'OFFBOARDING') {
    return isSent(notice) && notice.reclaimingAt
      ? { action: 'resume', reason: 'its reclaim was interrupted' }
      : { action: 'keep', reason: 'offboarded by an operator' };
  }
  if (!RECLAIMABLE_TIERS.includes(tenant.tier)) return { action: 'keep', reason: 'paid tier' };
  if (tenant.status !== 'ACTIVE') return { action: 'keep', reason: `status ${tenant.status}` };
  const lastUse = lastUseOf(tenant, input.lastCallEnd);
  const now = input.now.getTime();
  if (isSent(notice)) {
    if (lastUse > Date.parse(notice.sentAt)) {
      return { action: 'clear', reason: 'used since the notice' };
    }
    const due = Math.max(
      Date.parse(notice.removeAfter),
      Date.parse(notice.sentAt) + input.noticeDays * DAY_MS,
    );
    return now >= due
      ? { action: 'reclaim', reason: 'unused since the notice' }
      : { action: 'wait', reason: 'notice period running' };
  }
  // A claim another run holds (state SENDING) is decided by the claim itself.
  return now - lastUse > input.idleDays * DAY_MS
    ? { action: 'notice', reason: `unused for over ${input.idleDays} days` }
    : { action: 'keep', reason: 'in use' };
}

function lastUseOf(
  tenant: Pick<TenantRecord, 'createdAt' | 'updatedAt'>,
  lastCallEnd: number | undefined,
): number {
  return Math.max(Date.parse(tenant.createdAt), Date.parse(tenant.updatedAt), lastCallEnd ?? 0);
}

/** What a run did, logged in one line. */
export interface ReclaimReport {
  /** Free, active tenants old enough to be idle whose notice and last call were read. */
  examined: number;
  noticed: number;
  reclaimed: number;
  /** Notices withdrawn because the tenant was used again. */
  cleared: number;
  /** Noticed tenants whose notice period is still running. */
  waiting: number;
  /** Tenants with no admin e-mail address to notice: never reclaimed. */
  noAddress: number;
  /** Notices or reclaims another run was doing at the same time. */
  raced: number;
  failed: number;
  /** Work left for the next run (the per-run maximum, or the time, ran out). */
  stoppedEarly: boolean;
  /** Set when nothing ran at all, and why. */
  disabled?: string;
}

/**
 * One run: pages through the tenants (a query of the registry's byTenant index, never a Scan),
 * notices the idle free ones, withdraws notices of those used again, then offboards those whose
 * notice period passed. Idempotent: a run repeated, or two at once, notice and reclaim nothing
 * twice (conditional writes on the tenant's RECLAIM# item); a crash between sending a notice and
 * recording it sends at most one more. At most `maxTenantsPerRun` tenants are noticed or
 * reclaimed; the rest are found again by the next run.
 */
export async function reclaimIdleTenants(
  deps: ReclaimDeps,
  settings: ReclaimSettings,
): Promise<ReclaimReport> {
  const report: ReclaimReport = {
    examined: 0,
    noticed: 0,
    reclaimed: 0,
    cleared: 0,
    waiting: 0,
    noAddress: 0,
    raced: 0,
    failed: 0,
    stoppedEarly: false,
  };
  if (!settings.sender) {
    report.disabled = 'no notice sender is configured, and no tenant is reclaimed without notice';
    deps.logger.warn('Idle free tenants: nothing noticed or reclaimed', { ...report });
    return report;
  }
  const sender = settings.sender;
  const clock = deps.now ?? (() => new Date());
  const remaining = deps.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const offboardBudget = deps.offboardBudgetMs ?? (ACCESS_DRAIN_SECONDS + 120) * 1000;
  const max = settings.maxTenantsPerRun ?? RECLAIM_DEFAULTS.maxTenantsPerRun;
  const notices = new ReclaimNotices(deps.db, deps.registryTableName);
  const idleMs = settings.idleDays * DAY_MS;
  let taken = 0;
  /** Takes one of the run's places, if one is left. */
  const take = () => {
    if (taken >= max) {
      report.stoppedEarly = true;
      return false;
    }
    taken += 1;
    return true;
  };
  const due: Array<{ tenant: TenantRecord; notice: ReclaimNotice | undefined }> = [];

  const examine = async (tenant: TenantRecord) => {
    const now = clock();
    const notice = await notices.get(tenant.tenantId, now);
    const decision = decideReclaim({
      tenant,
      notice,
      lastCallEnd: await lastCall(deps.usage, tenant, notice, now, idleMs),
      now,
      ...settings,
    });
    switch (decision.action) {
      case 'notice': {
        if (!take()) return;
        const members = await deps.registry.listMembers(tenant.tenantId);
        const recipients = noticeRecipients(tenant, members);
        if (recipients.length === 0) {
          report.noAddress += 1;
          taken -= 1;
          deps.logger.warn('Idle free tenant has no admin e-mail address: not noticed, kept', {
            tenantId: tenant.tenantId,
          });
          return;
        }
        const claimId = await notices.claim(tenant.tenantId, now, CLAIM_LEASE_MS);
        if (!claimId) {
          report.raced += 1;
          return;
        }
        const removeAfter = new Date(now.getTime() + settings.noticeDays * DAY_MS);
        const email = noticeEmail({
          tenant,
          idleDays: settings.idleDays,
          removeAfter,
          ...(settings.mcpUrl ? { mcpUrl: settings.mcpUrl } : {}),
        });
        try {
          await sendNotice(deps.ses, sender, recipients, email);
        } catch (error) {
          await notices.release(tenant.tenantId, claimId);
          throw error;
        }
        const recorded = await notices.recordSent(tenant.tenantId, claimId, {
          sentAt: now,
          removeAfter,
          recipients: recipients.length,
        });
        if (recorded) report.noticed += 1;
        else report.raced += 1;
        deps.logger.info('Idle free tenant noticed', {
          tenantId: tenant.tenantId,
          recipients: recipients.length,
          removeAfter: removeAfter.toISOString(),
          recorded,
        });
        return;
      }
      case 'clear':
        if (isSent(notice) && (await notices.clear(tenant.tenantId, notice))) {
          report.cleared += 1;
          deps.logger.info('Notice withdrawn: the tenant was used again', {
            tenantId: tenant.tenantId,
          });
        }
        return;
      case 'wait':
        report.waiting += 1;
        return;
      case 'reclaim':
      case 'resume':
        if (take()) due.push({ tenant, notice });
        return;
      case 'keep':
        return;
    }
  };

  const scanReserve = offboardBudget + 60_000;
  scan: for await (const page of tenantPages(deps.db, deps.registryTableName, deps.logger)) {
    const candidates = page.filter((tenant) => mayNeedAction(tenant, clock(), idleMs));
    for (let i = 0; i < candidates.length; i += EXAMINE_CONCURRENCY) {
      if (taken >= max || remaining() < scanReserve) {
        report.stoppedEarly = true;
        break scan;
      }
      await Promise.all(
        candidates.slice(i, i + EXAMINE_CONCURRENCY).map(async (tenant) => {
          report.examined += 1;
          try {
            await examine(tenant);
          } catch (error) {
            report.failed += 1;
            deps.logger.error('Idle free tenant could not be handled', {
              tenantId: tenant.tenantId,
              ...errorFields(error),
            });
          }
        }),
      );
    }
  }

  // Offboarding waits the drain time for each tenant: a few at once, and none started that
  // could not finish in the time left (the next run resumes any that stop part way).
  const reclaimOne = async ({ tenant }: { tenant: TenantRecord }) => {
    if (remaining() < offboardBudget) {
      report.stoppedEarly = true;
      return;
    }
    try {
      // Decided again just before: a call or a change since the scan keeps the tenant.
      const now = clock();
      const current = await deps.registry.getTenant(tenant.tenantId);
      const notice = await notices.get(tenant.tenantId, now);
      if (!current || !isSent(notice)) return;
      const decision = decideReclaim({
        tenant: current,
        notice,
        lastCallEnd: await lastCall(deps.usage, current, notice, now, idleMs),
        now,
        ...settings,
      });
      if (decision.action === 'reclaim') {
        if (!(await notices.recordReclaiming(tenant.tenantId, notice as SentNotice, now))) {
          report.raced += 1;
          return;
        }
      } else if (decision.action !== 'resume') {
        return;
      }
      deps.logger.info('Reclaiming idle free tenant', {
        tenantId: tenant.tenantId,
        noticeSentAt: notice.sentAt,
      });
      await deps.offboard(tenant.tenantId);
      await notices.recordReclaimed(tenant.tenantId, clock());
      report.reclaimed += 1;
    } catch (error) {
      report.failed += 1;
      deps.logger.error('Idle free tenant could not be reclaimed; the next run resumes', {
        tenantId: tenant.tenantId,
        ...errorFields(error),
      });
    }
  };
  for (let i = 0; i < due.length; i += OFFBOARD_CONCURRENCY) {
    await Promise.all(due.slice(i, i + OFFBOARD_CONCURRENCY).map(reclaimOne));
  }

  deps.logger.info('Idle free tenants: run done', { ...report });
  return report;
}

/**
 * Whether a tenant may need anything, from its index entry alone (no read): an active free
 * tenant whose record is older than the idle period, or an offboarding one (a reclaim to resume).
 */
function mayNeedAction(tenant: TenantRecord, now: Date, idleMs: number): boolean {
  if (tenant.status === 'OFFBOARDING') return true;
  if (tenant.status !== 'ACTIVE' || !RECLAIMABLE_TIERS.includes(tenant.tier)) return false;
  return now.getTime() - lastUseOf(tenant, undefined) > idleMs;
}

/** The end of the tenant's last metered call, read as far back as the decision needs. */
function lastCall(
  usage: UsageMeter,
  tenant: TenantRecord,
  notice: ReclaimNotice | undefined,
  now: Date,
  idleMs: number,
): Promise<number | undefined> {
  const since = Math.min(
    now.getTime() - idleMs,
    isSent(notice) ? Date.parse(notice.sentAt) : Number.POSITIVE_INFINITY,
  );
  return usage.lastCallEnd(tenant.tenantId, since, now.getTime());
}

/**
 * The tenants, a page at a time: a query of the byTenant index's all-tenants partition (never a
 * Scan), which projects what a tenant record needs here. A malformed entry is logged and skipped,
 * so one bad item does not stop the run.
 */
async function* tenantPages(
  db: DynamoDBDocumentClient,
  tableName: string,
  logger: Logger,
): AsyncGenerator<TenantRecord[]> {
  const index = REGISTRY_TABLE.byTenantIndex;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.indexName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: {
          ':pk': REGISTRY_TABLE.allTenantsKey,
          ':prefix': REGISTRY_TABLE.tenantKeyPrefix,
        },
        Limit: 100,
        ExclusiveStartKey: startKey,
      }),
    );
    const tenants: TenantRecord[] = [];
    for (const item of page.Items ?? []) {
      const parsed = TenantRecordSchema.safeParse(item);
      if (parsed.success) tenants.push(parsed.data);
      else logger.warn('Malformed tenant entry skipped', { key: String(item[index.sortKey]) });
    }
    yield tenants;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
