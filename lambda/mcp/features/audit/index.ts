import * as z from 'zod';
import { AUDIT_OUTCOMES, AuditActionSchema } from '../../../shared/audit/audit-record.js';
import { AuditQuerySchema } from '../../../shared/audit/audit-trail.js';
import { ValidationError } from '../../../shared/platform/errors.js';
import { defineTool, type Feature } from '../feature.js';

const EntrySchema = z.object({
  time: z.string(),
  actor: z.object({
    user: z.string().optional(),
    agentId: z.string().optional(),
    operator: z.boolean().optional(),
  }),
  action: z.string(),
  targets: z.array(z.string()),
  argsDigest: z.string().optional(),
  outcome: z.enum(AUDIT_OUTCOMES),
  reason: z.string().optional(),
  requestId: z.string().optional(),
});

const auditReport = defineTool({
  name: 'audit_report',
  requiredRole: 'admin',
  title: 'Audit trail',
  description:
    "Shows your organisation's audit trail, newest first: every tool call, resource read, admin action and refused attempt, with who (a member's pseudonym, or an agent and the member it acts for), what, the ids it named, the outcome and the request id. Filter by time range, actor, action and outcome; page with nextCursor. Admins only.",
  inputSchema: z.object({
    from: AuditQuerySchema.shape.from.describe(
      'Earliest time, ISO 8601 (e.g. 2026-12-01T00:00:00Z)',
    ),
    to: AuditQuerySchema.shape.to.describe('Latest time, ISO 8601'),
    actor: AuditQuerySchema.shape.actor.describe("A member's pseudonym (u_…) or an agent id"),
    action: AuditActionSchema.optional().describe('A tool or method name, e.g. notes_create'),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    cursor: z.string().max(512).optional().describe('nextCursor of the previous page'),
    limit: z.number().int().min(1).max(100).optional().describe('Records per page (default 50)'),
  }),
  outputSchema: z.object({ records: z.array(EntrySchema), nextCursor: z.string().optional() }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: async (input, scope) => {
    if (input.from && input.to && Date.parse(input.from) > Date.parse(input.to)) {
      throw new ValidationError('"from" must be on or before "to".');
    }
    const page = await scope.audit.report(input);
    return {
      records: page.records.map((record) => ({ ...record, targets: [...record.targets] })),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  },
});

/** The tenant's audit trail (lambda/shared/audit/). */
export const audit: Feature = { name: 'audit', tools: [auditReport] };
