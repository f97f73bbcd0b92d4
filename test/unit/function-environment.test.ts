import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONTRACT_FILE_VARIABLE, loadHandler } from '../../local/function-environment.js';

/** Each handler loads locally with only the variables its CDK definition gives it. */
describe('local function environments', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    const file = join(mkdtempSync(join(tmpdir(), 'contract-')), 'contract.json');
    writeFileSync(
      file,
      JSON.stringify({
        functions: { authorizer: ['REGISTRY_TABLE_NAME'] },
        dataAccessPolicies: [],
      }),
    );
    process.env[CONTRACT_FILE_VARIABLE] = file;
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("hides another function's variables while the handler loads, and restores them after", async () => {
    process.env.REGISTRY_TABLE_NAME = 'tenant-registry';
    process.env.DATA_TABLE_NAME = 'tenant-data';

    const seen = await loadHandler('authorizer', async () => ({ ...process.env }));

    expect(seen.REGISTRY_TABLE_NAME).toBe('tenant-registry');
    expect(seen.DATA_TABLE_NAME).toBeUndefined();
    expect(process.env.DATA_TABLE_NAME).toBe('tenant-data');
  });

  it('stops the stack when CDK gives a function a variable the local stack does not set', async () => {
    delete process.env.REGISTRY_TABLE_NAME;

    await expect(loadHandler('authorizer', async () => 'loaded')).rejects.toThrow(
      /lambda\/authorizer needs REGISTRY_TABLE_NAME/,
    );
  });

  it('refuses a handler the CDK app does not define', async () => {
    await expect(loadHandler('reports', async () => 'loaded')).rejects.toThrow(
      /defines no function from lambda\/reports/,
    );
  });
});
