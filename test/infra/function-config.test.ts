import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { METERING_CONFIG } from '../../lambda/metering/config.js';
import { HandlerFunction } from '../../lib/constructs/handler-function.js';
import { PROJECT_ROOT } from '../../local/process.js';
import { buildApp } from '../support/app.js';

/** Each function's CDK environment against the configuration its handler reads at load. */
describe('function configuration contract', () => {
  const { app, stack } = buildApp();
  const handlers = stack.node
    .findAll()
    .filter((construct): construct is HandlerFunction => construct instanceof HandlerFunction);
  const variablesOf = (handler: HandlerFunction) => {
    const cfn = handler.fn.node.defaultChild as CfnFunction;
    const environment = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> };
    return Object.keys(environment?.variables ?? {});
  };

  it('deploys every handler with the configuration shape its own folder exports', async () => {
    expect(handlers.length).toBeGreaterThanOrEqual(10);
    for (const handler of handlers) {
      const file = `${PROJECT_ROOT}/lambda/${handler.entry}/config.ts`;
      const module = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
      expect(Object.values(module), handler.entry).toContain(handler.config);
    }
  });

  it('gives each function every variable its handler requires, and none it does not read', () => {
    app.synth(); // runs the validations, among them the handler's own check
    for (const handler of handlers) {
      const variables = variablesOf(handler);
      expect(variables, handler.entry).toEqual(expect.arrayContaining(handler.requiredVariables()));
      const unread = variables.filter(
        (name) => !(name in handler.config) && !name.startsWith('POWERTOOLS_'),
      );
      expect(unread, handler.entry).toEqual([]);
    }
  });

  it('fails synth when a required variable is not set', () => {
    const bare = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const scope = new Stack(bare, 'Bare');
    new HandlerFunction(scope, 'Metering', {
      entry: 'metering',
      description: 'Missing its table',
      config: METERING_CONFIG,
    });
    expect(() => bare.synth()).toThrow(/lambda\/metering requires USAGE_TABLE_NAME/);
  });
});
