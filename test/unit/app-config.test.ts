import { App, RemovalPolicy } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CALLBACK_URLS, readAppConfig } from '../../lib/config.js';

const configFrom = (context: Record<string, unknown>) => readAppConfig(new App({ context }).node);

describe('deployment configuration', () => {
  it('defaults to MCP Inspector callbacks and retain-except-on-create, leaving the domain prefix to the stack', () => {
    const config = configFrom({});

    expect(config.domainPrefix).toBeUndefined();
    expect(config.callbackUrls).toEqual(DEFAULT_CALLBACK_URLS);
    expect(config.removalPolicy).toBe(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    expect(config.allowedOriginHostnames).toEqual([]);
  });

  it('takes callback URLs as a comma-separated string from the command line', () => {
    const config = configFrom({
      callbackUrls: 'https://assistant.example.com/callback, http://127.0.0.1:33418/cb',
    });

    expect(config.callbackUrls).toEqual([
      'https://assistant.example.com/callback',
      'http://127.0.0.1:33418/cb',
    ]);
  });

  it('refuses a plain-http callback on a host other than loopback, as the façade does', () => {
    expect(() => configFrom({ callbackUrls: ['http://evil.example.com/cb'] })).toThrow(
      /context "callbackUrls.0": "http:\/\/evil.example.com\/cb" uses http on a host that is not loopback/,
    );
  });

  it('refuses a domain prefix Cognito would refuse at deploy time', () => {
    expect(() => configFrom({ domainPrefix: 'My_Prefix' })).toThrow(/context "domainPrefix"/);
    expect(() => configFrom({ domainPrefix: 'acme-cognito' })).toThrow(/"aws", "amazon"/);
  });

  it('destroys stateful resources only when asked to by name', () => {
    expect(configFrom({ removalPolicy: 'destroy' }).removalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(() => configFrom({ removalPolicy: 'delete' })).toThrow(/context "removalPolicy"/);
  });
});
