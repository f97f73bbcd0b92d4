import { randomBytes } from 'node:crypto';
import type { AuditOutcome } from '../lambda/shared/audit/audit-record.js';
import { type AuditQuery, AuditTrail } from '../lambda/shared/audit/audit-trail.js';
import { createDocumentClient } from '../lambda/shared/platform/aws-clients.js';
import { printable } from '../local/printable.js';

/**
 * The operator's side of the audit trail: operator actions appended as they are done (the
 * tenant's admins see them in their trail), and a tenant's trail printed.
 */
export class OperatorAudit {
  private readonly trail: AuditTrail | undefined;

  constructor(tableName: string | undefined) {
    this.trail = tableName ? new AuditTrail(createDocumentClient(), tableName) : undefined;
  }

  /** Appends one operator action (`operator/<command>`) to a tenant's trail. */
  async record(
    tenantId: string,
    command: string,
    targets: readonly string[] = [],
    outcome: AuditOutcome = 'ok',
  ): Promise<void> {
    if (!this.trail) return;
    await this.trail.append([
      {
        // Digits, like the log event ids of the application's own records.
        id: `${Date.now()}${BigInt(`0x${randomBytes(6).toString('hex')}`)
          .toString()
          .padStart(15, '0')}`,
        record: {
          record: 'mcp-audit/1',
          tenantId,
          time: Date.now(),
          actor: { operator: true },
          action: `operator/${command}`,
          targets: targets.map((t) => t.slice(0, 100)).slice(0, 5),
          outcome,
        },
      },
    ]);
  }

  /** Prints a page of a tenant's trail, newest first, and the cursor of the next one. */
  async print(tenantId: string, query: AuditQuery): Promise<void> {
    if (!this.trail) throw new Error('Missing configuration: AUDIT_TABLE_NAME.');
    const page = await this.trail.report(tenantId, query);
    for (const r of page.records) {
      const actor = r.actor.operator
        ? 'operator'
        : `${r.actor.user ?? '-'}${r.actor.agentId ? ` (agent ${r.actor.agentId})` : ''}`;
      process.stdout.write(
        `${r.time}  ${actor.padEnd(24)} ${printable(r.action).padEnd(26)} ${r.outcome.padEnd(8)} ${printable(r.targets.join(','))}${r.reason ? ` [${r.reason}]` : ''}${r.requestId ? ` ${r.requestId}` : ''}\n`,
      );
    }
    process.stdout.write(
      `${page.records.length} record(s).${page.nextCursor ? ` More: --cursor ${page.nextCursor}` : ''}\n`,
    );
  }
}
