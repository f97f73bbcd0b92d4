import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { readConfig, tableName } from '../../lambda/shared/platform/config.js';
import { ConfigError } from '../../lambda/shared/platform/errors.js';

const shape = { REGISTRY_TABLE_NAME: tableName(), MAX_ITEMS: z.coerce.number().int().positive() };

describe('handler configuration', () => {
  it('reads valid configuration', () => {
    expect(
      readConfig(shape, { REGISTRY_TABLE_NAME: 'Stack-Registry-1A2B', MAX_ITEMS: '5' }),
    ).toEqual({ REGISTRY_TABLE_NAME: 'Stack-Registry-1A2B', MAX_ITEMS: 5 });
  });

  it('names every missing variable', () => {
    expect(() => readConfig(shape, {})).toThrow(
      new ConfigError(
        'Invalid configuration: REGISTRY_TABLE_NAME is not set; MAX_ITEMS is not set',
      ),
    );
  });

  it('names a malformed variable without echoing its value', () => {
    const secretish = 'drop table; --';

    const error = (() => {
      try {
        readConfig(shape, { REGISTRY_TABLE_NAME: secretish, MAX_ITEMS: '1' });
      } catch (e) {
        return e as Error;
      }
    })();

    expect(error?.message).toMatch(/REGISTRY_TABLE_NAME is malformed/);
    expect(error?.message).not.toContain(secretish);
  });

  it('stops the pre-token handler from loading without its table name', async () => {
    vi.resetModules();
    vi.stubEnv('REGISTRY_TABLE_NAME', undefined);
    try {
      await expect(import('../../lambda/pre-token-generation/index.js')).rejects.toThrow(
        /REGISTRY_TABLE_NAME is not set/,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
