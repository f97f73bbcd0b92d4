import * as z from 'zod';
import { tableName } from '../shared/platform/config.js';

/**
 * What lambda/audit reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/audit-trail.ts)
 * and synth fails when one without a default is missing.
 */
export const AUDIT_CONFIG = {
  AUDIT_TABLE_NAME: tableName(),
  /** How long records are kept (DynamoDB TTL). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3653),
} satisfies z.ZodRawShape;
