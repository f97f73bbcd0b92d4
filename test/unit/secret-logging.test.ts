import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { featureClient } from '../support/feature-client.js';
import { MemoryTenancy, memoryContext } from '../support/memory-tenancy.js';

const SECRET = 'never-print-me-0123456789';

/** The MCP server in process, with a DEBUG logger whose output is captured. */
function serverWith(stored: Map<string, string>, lines: string[]) {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  const scope = new MemoryTenancy().scope(memoryContext('acme'), {
    secrets: {
      get: async (name) => stored.get(name),
      put: async (name, value) => {
        logger.debug('storing a secret', { name });
        stored.set(name, value);
      },
    },
    outbound: { allowLoopback: true },
    logger,
  });
  return async (args: Record<string, unknown>) => {
    const client = await featureClient(scope);
    const result = await client.callTool({ name: 'integrations_set', arguments: args });
    await client.close();
    return result;
  };
}

describe('integration secrets', () => {
  afterEach(() => vi.restoreAllMocks());

  it('stores the signing secret but never returns or logs it, on success or refusal', async () => {
    const stored = new Map<string, string>();
    const lines: string[] = [];
    const setIntegration = serverWith(stored, lines);

    const ok = await setIntegration({
      webhookUrl: 'http://127.0.0.1:9/hook',
      signingSecret: SECRET,
    });
    const refused = await setIntegration({
      webhookUrl: 'http://10.0.0.1/hook',
      signingSecret: SECRET,
    });

    expect(stored.get('webhook')).toContain(SECRET);
    expect(JSON.stringify(ok)).not.toContain(SECRET);
    expect(JSON.stringify(refused)).not.toContain(SECRET);
    expect(refused.isError).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(SECRET);
  });
});
