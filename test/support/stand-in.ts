import { meteringSettled as waitForMetering } from '../../local/metering-settled.js';
import { harness } from './mcp.js';

/** Local-only endpoints of the AWS stand-in: faults, stats, the inbox, KMS keys. */
const call = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${harness().awsUrl}/__stand-in/${path}`, init);
  return response.json() as Promise<unknown>;
};

/**
 * Makes the next `times` calls of `action` fail, after or before doing the work: with a 500
 * (`failure`, the default) or a 400 ThrottlingException (`throttle`); or answer `delayMs` late
 * (`slow`).
 */
export async function injectFault(
  action: string,
  options: {
    times: number;
    when: 'before' | 'after';
    kind?: 'failure' | 'throttle' | 'slow' | 'conflict';
    /** For `slow`: how late the real answer comes. */
    delayMs?: number;
  },
) {
  await call('faults', { method: 'POST', body: JSON.stringify({ action, ...options }) });
}

export async function clearFaults() {
  await call('faults', { method: 'DELETE' });
}

export async function inbox(email: string): Promise<string | null> {
  return ((await call(`inbox/${encodeURIComponent(email)}`)) as { message: string | null }).message;
}

export interface StandInKey {
  keyId: string;
  arn: string;
  state: string;
  tags: Array<{ TagKey: string; TagValue: string }>;
  policy: {
    Statement: Array<{ Sid: string; Principal: unknown; Action: unknown; Condition?: unknown }>;
  };
}

/** The KMS keys tagged with the tenant. */
export async function tenantKeys(tenantId: string): Promise<StandInKey[]> {
  const keys = (await call('kms')) as StandInKey[];
  return keys.filter((key) =>
    key.tags.some((t) => t.TagKey === 'TenantId' && t.TagValue === tenantId),
  );
}

/** Calls per action since the stand-in started (faults counted as `fault:<action>`). */
export async function stats(): Promise<Record<string, number>> {
  return (await call('stats')) as Record<string, number>;
}

/** Waits until the local metering function has counted every usage record printed so far. */
export async function meteringSettled(timeoutMs = 15_000): Promise<void> {
  await waitForMetering(harness().awsUrl, timeoutMs);
}
