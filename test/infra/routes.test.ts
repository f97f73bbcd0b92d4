import { describe, expect, it } from 'vitest';
import { LOCAL_ROUTES } from '../../local/gateway.js';
import { synthTemplate } from '../support/app.js';

/** The REST API CDK synthesizes, method by method, against the routes the local gateway serves. */
describe('one list of routes', () => {
  const template = synthTemplate();
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (reference: unknown): string => {
    const id = (reference as { Ref?: string }).Ref;
    const resource = id ? resources[id] : undefined;
    // The root resource is `Fn::GetAtt [Api, RootResourceId]`.
    if (!resource) return '';
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  const key = (method: string, path: string, authorized: boolean) =>
    `${method} ${path} ${authorized ? 'authorized' : 'anonymous'}`;

  it('serves locally exactly the methods the deployed API has, with the same authorization', () => {
    const deployed = Object.values(template.findResources('AWS::ApiGateway::Method'))
      .map((method) =>
        key(
          method.Properties.HttpMethod,
          pathOf(method.Properties.ResourceId),
          method.Properties.AuthorizationType === 'CUSTOM',
        ),
      )
      .sort();
    const local = LOCAL_ROUTES.flatMap((route) => [
      ...route.methods.map((method) => key(method, route.path, route.authorized)),
      ...(route.consolePreflight ? [key('OPTIONS', route.path, false)] : []),
    ]).sort();

    expect(local.length).toBeGreaterThan(10);
    expect(local).toEqual(deployed);
  });
});
