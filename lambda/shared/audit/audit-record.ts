import { createHash } from 'node:crypto';
import * as z from 'zod';
import { PSEUDONYM_PATTERN } from '../platform/pseudonym.js';
import { AgentIdSchema } from '../registry/agents.js';
import { TenantIdSchema } from '../tenancy/tenant.js';

/**
 * The audit record: one JSON line on the MCP function's standard output for every call that did
 * or tried to do something for a tenant (a tool call, a resource read, a refused request),
 * written before the response leaves, as the usage record is (usage-record.ts). The log group's
 * second subscription filter (`{ $.record = "mcp-audit/1" }`) hands the lines to the audit
 * function, which appends them to the audit table: the request path pays no round trip, and a
 * recycled environment loses no record (Lambda ships every line it printed).
 *
 * The line holds no note body, secret or e-mail address: the arguments only as a digest, and
 * the ids they name (targets). Operator actions (tier, suspension, offboarding) are appended by
 * the operator CLI directly, with `actor.operator`.
 */
export const AUDIT_RECORD = 'mcp-audit/1';

export const AUDIT_OUTCOMES = ['ok', 'error', 'refused'] as const;
export const AuditOutcomeSchema = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/**
 * What an action is called: a tool or method name as the client sent it (cut to 100 characters:
 * a refused call of a tool that does not exist is recorded under the name it asked for, whatever
 * it holds), or an operator action (`operator/suspend`). Shown as text, never as markup.
 */
export const AuditActionSchema = z.string().min(1).max(100);

/**
 * Who acted: a person (pseudonym), an agent (its id, and the person it acts for, or its own
 * pseudonym), or the operator.
 */
export const AuditActorSchema = z
  .object({
    user: z.string().regex(PSEUDONYM_PATTERN).optional(),
    agentId: AgentIdSchema.optional(),
    operator: z.literal(true).optional(),
  })
  .strict()
  .refine((actor) => actor.user !== undefined || actor.operator === true, 'an actor is named');
export type AuditActor = z.infer<typeof AuditActorSchema>;

/** At most this many ids of one call are kept. */
const MAX_TARGETS = 5;

/** An id a call named (a note, a member's pseudonym, an agent), cut to a safe length. */
const TargetSchema = z.string().min(1).max(100);

export const AuditRecordSchema = z
  .object({
    record: z.literal(AUDIT_RECORD),
    tenantId: TenantIdSchema,
    /** When the request arrived (ms since the epoch). */
    time: z.number().int().positive(),
    actor: AuditActorSchema,
    action: AuditActionSchema,
    targets: z.array(TargetSchema).max(MAX_TARGETS),
    /** SHA-256 (base64url) of the arguments as the client sent them (JSON), never the values. */
    argsDigest: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/)
      .optional(),
    outcome: AuditOutcomeSchema,
    /** Why a request was refused or failed, in a word (`rate-limited`, `not-permitted`, ...). */
    reason: z
      .string()
      .max(60)
      .regex(/^[a-z-]+$/)
      .optional(),
    /** API Gateway's request id: the same id the access log and the function's lines carry. */
    requestId: z.string().max(100).optional(),
  })
  .strict();
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

/**
 * Writes one audit record; synchronous, so it is out before the response is returned. A record
 * the audit function would refuse (a field a client chose, out of shape) is written as what can
 * be said of it (`invalid-request`, reason `unrecordable`), never dropped: every attempt leaves one.
 */
export function writeAuditRecord(record: Omit<AuditRecord, 'record'>): void {
  const parsed = AuditRecordSchema.safeParse({ record: AUDIT_RECORD, ...record });
  const line = parsed.success
    ? parsed.data
    : {
        record: AUDIT_RECORD,
        tenantId: record.tenantId,
        time: record.time,
        actor: record.actor,
        action: 'invalid-request',
        targets: [],
        outcome: record.outcome,
        reason: 'unrecordable',
        ...(record.requestId ? { requestId: record.requestId } : {}),
      };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** A digest of a call's arguments: proves what was sent without keeping it. */
export function argumentsDigest(args: unknown): string | undefined {
  if (args === undefined) return undefined;
  return createHash('sha256').update(JSON.stringify(args)).digest('base64url');
}

/** Argument names that carry ids of things a call acts on. */
const TARGET_ARGUMENT = /^(id|uri|[a-z][A-Za-z]*Id)$/;

/** The argument that names a member by Cognito `sub`: kept as the member's pseudonym only. */
export const MEMBER_ARGUMENT = 'userId';

/**
 * The ids a call names: string arguments called `id`, `uri` or `…Id` (a note, an invitation, an
 * agent, a resource), at most five, each cut to 100 characters. A member (`userId`, a Cognito
 * sub) is named by its pseudonym, as every log line names people, never by the sub. Nothing else
 * of the arguments is kept: a title, a body, an e-mail address or a URL is not a target.
 */
export function auditTargets(args: unknown, pseudonymOf: (sub: string) => string): string[] {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return [];
  const targets: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (targets.length >= MAX_TARGETS) break;
    if (TARGET_ARGUMENT.test(name) && typeof value === 'string' && value.length > 0) {
      targets.push(name === MEMBER_ARGUMENT ? pseudonymOf(value) : value.slice(0, 100));
    }
  }
  return targets;
}

/** Whether a call's arguments name a member (its audit record needs the pseudonym key). */
export function namesMember(args: unknown): boolean {
  return (
    args !== null &&
    typeof args === 'object' &&
    typeof (args as Record<string, unknown>)[MEMBER_ARGUMENT] === 'string'
  );
}
