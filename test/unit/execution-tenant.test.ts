import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import {
  executionTenantMismatch,
  refuseForeignEnvironment,
} from '../../lambda/mcp/execution-tenant.js';

const eventFor = (authorizer: Record<string, unknown> | null) =>
  ({ requestContext: { authorizer } }) as unknown as APIGatewayProxyEvent;

describe('execution tenant check of the MCP handler', () => {
  it('serves an invocation Lambda ran under the execution tenant the authorizer chose', () => {
    expect(
      executionTenantMismatch('tenant:acme', { tenantId: 'acme', executionTenant: 'tenant:acme' }),
    ).toBeUndefined();
    expect(
      executionTenantMismatch('pool:free', { tenantId: 'acme', executionTenant: 'pool:free' }),
    ).toBeUndefined();
  });

  it('serves an invocation without a tenant id (a function that is not PER_TENANT)', () => {
    expect(executionTenantMismatch(undefined, { executionTenant: 'tenant:acme' })).toBeUndefined();
  });

  it.each([
    ["another tenant's environment", 'tenant:globex', { executionTenant: 'tenant:acme' }],
    ['a pool, for an isolated tenant', 'pool:premium', { executionTenant: 'tenant:acme' }],
    [
      "an isolated tenant's environment, for a pooled one",
      'tenant:acme',
      { executionTenant: 'pool:free' },
    ],
    ['an environment the authorizer named none for', 'tenant:acme', { tenantId: 'acme' }],
    ['an empty tenant id', '', { executionTenant: 'tenant:acme' }],
    ['a tenant id against an empty execution tenant', 'tenant:acme', { executionTenant: '' }],
    ['a non-string execution tenant', 'tenant:acme', { executionTenant: ['tenant:acme'] }],
    ['no authorizer context at all', 'tenant:acme', null],
  ])('refuses an invocation that runs in %s', (_, invoked, authorizer) => {
    expect(executionTenantMismatch(invoked, authorizer)).toMatchObject({
      invokedTenantId: invoked,
    });
  });

  it('answers a generic 500 with the CORS headers and logs both ids for the operator', () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const error = vi.spyOn(logger, 'error');
    const refusal = refuseForeignEnvironment(
      eventFor({ tenantId: 'acme', executionTenant: 'tenant:acme' }),
      { tenantId: 'tenant:globex' },
      logger,
      { 'Access-Control-Allow-Origin': 'https://console.example' },
    );

    expect(refusal?.statusCode).toBe(500);
    expect(JSON.parse(refusal?.body ?? '{}')).toEqual({
      jsonrpc: '2.0',
      error: { code: -32603, message: 'Internal error.' },
      id: null,
    });
    expect(refusal?.body).not.toMatch(/acme|globex|tenant/);
    expect(refusal?.headers).toMatchObject({
      'content-type': 'application/json',
      'Access-Control-Allow-Origin': 'https://console.example',
    });
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/another execution tenant/), {
      tenantId: 'acme',
      invokedTenantId: 'tenant:globex',
      executionTenant: 'tenant:acme',
    });
  });

  it('lets a matching invocation through without a log line', () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const error = vi.spyOn(logger, 'error');

    expect(
      refuseForeignEnvironment(
        eventFor({ tenantId: 'acme', executionTenant: 'tenant:acme' }),
        { tenantId: 'tenant:acme' },
        logger,
      ),
    ).toBeUndefined();
    expect(error).not.toHaveBeenCalled();
  });
});
