import { describe, expect, it } from 'vitest';
import { TENANT_ID_HEADER, TENANT_ID_SOURCE } from '../../lambda/shared/edge/execution-tenant.js';
import { deployedContract } from '../../local/deployed-contract.js';
import { synthTemplate } from '../support/app.js';

/**
 * Lambda tenant isolation of the MCP function: PER_TENANT, invoked with the execution tenant
 * the authorizer computed, and with nothing a client could choose.
 */
describe('isolated execution (Lambda tenant isolation)', () => {
  const template = synthTemplate();
  const functions = template.findResources('AWS::Lambda::Function');
  const [mcpId] =
    Object.entries(functions).find(([, f]) =>
      String(f.Properties.Description).startsWith('Stateless MCP server'),
    ) ?? [];
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
  const invokes = (method: (typeof methods)[number], functionId: string) =>
    JSON.stringify(method.Properties.Integration?.Uri ?? '').includes(`"${functionId}"`);
  /** The integration request parameters that set Lambda's tenant id header (any case). */
  const tenantIdMappings = (method: (typeof methods)[number]) =>
    Object.entries(
      (method.Properties.Integration?.RequestParameters ?? {}) as Record<string, unknown>,
    ).filter(
      ([name]) =>
        name.toLowerCase() === `integration.request.header.${TENANT_ID_HEADER}`.toLowerCase(),
    );

  it('creates the MCP function PER_TENANT', () => {
    expect(mcpId).toBeDefined();
    expect(functions[mcpId as string]?.Properties.TenancyConfig).toEqual({
      TenantIsolationMode: 'PER_TENANT',
    });
  });

  it('gives tenant isolation to the MCP function only', () => {
    const isolated = Object.entries(functions)
      .filter(([, f]) => f.Properties.TenancyConfig !== undefined)
      .map(([id]) => id);

    expect(isolated).toEqual([mcpId]);
  });

  it("maps every MCP invocation's tenant id from the authorizer's executionTenant", () => {
    const mcpMethods = methods.filter((m) => invokes(m, mcpId as string));

    expect(mcpMethods.map((m) => m.Properties.HttpMethod).sort()).toEqual([
      'DELETE',
      'GET',
      'POST',
    ]);
    for (const method of mcpMethods) {
      expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
      expect(tenantIdMappings(method)).toEqual([
        [`integration.request.header.${TENANT_ID_HEADER}`, 'context.authorizer.executionTenant'],
      ]);
    }
    expect(TENANT_ID_SOURCE).toBe('context.authorizer.executionTenant');
  });

  it('takes the tenant id from nothing a client sends', () => {
    for (const method of methods) {
      for (const [, source] of tenantIdMappings(method)) {
        expect(String(source)).toMatch(/^context\.authorizer\./);
        expect(String(source)).not.toMatch(/method\.request|stageVariables|^'/);
      }
      // No method declares a request parameter a client could use to name a tenant.
      const declared = Object.keys(
        (method.Properties.RequestParameters ?? {}) as Record<string, unknown>,
      );
      expect(declared.filter((name) => /tenant/i.test(name))).toEqual([]);
    }
  });

  it('sends a tenant id to no function that is not PER_TENANT', () => {
    const others = Object.keys(functions).filter((id) => id !== mcpId);

    for (const method of methods.filter((m) => others.some((id) => invokes(m, id)))) {
      expect(tenantIdMappings(method)).toEqual([]);
    }
  });

  it('uses nothing tenant isolation rules out: provisioned concurrency, SnapStart, a function URL, an event source', () => {
    const mcp = functions[mcpId as string]?.Properties;

    expect(mcp?.SnapStart).toBeUndefined();
    for (const type of ['AWS::Lambda::Url', 'AWS::Lambda::EventSourceMapping']) {
      const onMcp = Object.values(template.findResources(type)).filter((r) =>
        JSON.stringify(r.Properties).includes(`"${mcpId}"`),
      );
      expect(onMcp, type).toEqual([]);
    }
    for (const type of ['AWS::Lambda::Alias', 'AWS::Lambda::Version']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource.Properties.ProvisionedConcurrencyConfig, type).toBeUndefined();
      }
    }
  });

  it('is what the local gateway reads: the MCP function PER_TENANT, its tenant id from the authorizer', () => {
    expect(deployedContract().tenancy).toEqual({
      mcp: { perTenant: true, tenantIdSource: 'context.authorizer.executionTenant' },
    });
  });
});
