import * as z from 'zod';
import { PSEUDONYM_PATTERN } from '../platform/pseudonym.js';
import { AgentIdSchema } from '../registry/agents.js';
import { TenantIdSchema } from '../tenancy/tenant.js';

/**
 * The metering record: one JSON line on the MCP function's standard output for each served call
 * of tenant work, written before the response leaves. Lambda sends every line to CloudWatch
 * Logs whatever becomes of the environment afterwards, and the log group's subscription filter
 * (`{ $.record = "mcp-usage/1" }`) hands the records to the metering function, so metering costs
 * the request path no round trip and no recycled environment loses a served call.
 *
 * The line is written directly, not through the logger: its level must not decide what is
 * billed. Every other line of the function is written by Powertools, which escapes any string a
 * client chose, so no client can forge a top-level `record` field.
 */
export const USAGE_RECORD = 'mcp-usage/1';

export const UsageRecordSchema = z
  .object({
    record: z.literal(USAGE_RECORD),
    tenantId: TenantIdSchema,
    /** The tool, or for other tenant work the method (`resources/read`, `prompts/get`, ...). */
    name: z.string().min(1).max(100),
    outcome: z.enum(['ok', 'error']),
    durationMs: z.number().int().min(0),
    /** When the call was served (ms since the epoch): its day and month. */
    time: z.number().int().positive(),
    requestId: z.string().max(100).optional(),
    /** Who: the person's pseudonym (or an agent's own), and the agent if one called. */
    user: z.string().regex(PSEUDONYM_PATTERN).optional(),
    agentId: AgentIdSchema.optional(),
  })
  .strict();
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

export type CallOutcome = UsageRecord['outcome'];

export function usageLine(record: Omit<UsageRecord, 'record'>): string {
  return `${JSON.stringify({ record: USAGE_RECORD, ...record })}\n`;
}

/** Writes one metering record; synchronous, so it is out before the response is returned. */
export function writeUsageRecord(record: Omit<UsageRecord, 'record'>): void {
  process.stdout.write(usageLine(record));
}
