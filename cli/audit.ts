import { randomBytes } from 'node:crypto';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  AUDIT_RECORD,
  type AuditOutcome,
  AuditRecordSchema,
} from '../lambda/shared/audit/audit-record.js';
import { type AuditQuery, AuditTrail } from '../lambda/shared/audit/audit-trail.js';
import { createDocumentClient } from '../lambda/shared/platform/aws-clients.js';
import { printable } from '../local/printable.js';

/**
 * The operator's side of the audit trail: operator actions recorded as they are done (the
 * tenant's admins see them in their trail), and a tenant's trail printed. No one but the audit
 * function may put a record (the table's resource policy), so an action's record goes as a line
 * to the operator log group, whose subscription hands it to the audit function.
 */
export class OperatorAudit {
  private readonly logs = new CloudWatchLogsClient({});
  private stream: string | undefined;

  constructor(
    private readonly settings: { readonly tableName?: string; readonly logGroup?: string },
  ) {}

  /** Records one operator action (`operator/<command>`) in a tenant's trail. */
  async record(
    tenantId: string,
    command: string,
    targets: readonly string[] = [],
    outcome: AuditOutcome = 'ok',
  ): Promise<void> {
    const { logGroup } = this.settings;
    if (!logGroup) return;
    const record = AuditRecordSchema.parse({
      record: AUDIT_RECORD,
      tenantId,
      time: Date.now(),
      actor: { operator: true },
      action: `operator/${command}`,
      targets: targets.map((t) => t.slice(0, 100)).slice(0, 5),
      outcome,
    });
    if (!this.stream) {
      this.stream = `operator-cli/${new Date().toISOString().slice(0, 10)}/${randomBytes(8).toString('hex')}`;
      await this.logs.send(
        new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: this.stream }),
      );
    }
    await this.logs.send(
      new PutLogEventsCommand({
        logGroupName: logGroup,
        logStreamName: this.stream,
        logEvents: [{ timestamp: record.time, message: JSON.stringify(record) }],
      }),
    );
  }

  /** Prints a page of a tenant's trail, newest first, and the cursor of the next one. */
  async print(tenantId: string, query: AuditQuery): Promise<void> {
    if (!this.settings.tableName) throw new Error('Missing configuration: AUDIT_TABLE_NAME.');
    const page = await new AuditTrail(createDocumentClient(), this.settings.tableName).report(
      tenantId,
      query,
    );
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
