import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { domainNameOf } from '../../lib/constructs/identity.js';
import { actionsOf, policyStatements, pseudonymKeyRead, synthTemplate } from '../support/app.js';

const template = synthTemplate();

describe('identity construct', () => {
  it('puts the user pool on the ESSENTIALS plan with self sign-up and e-mail verification', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'ESSENTIALS',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      AutoVerifiedAttributes: ['email'],
      UsernameAttributes: ['email'],
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
    });
  });

  it('wires the pre-token-generation trigger as version 2 so access tokens carry the tenant', () => {
    const [functionId] = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('tenant, tier and role') },
      }),
    );
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: {
        PreTokenGenerationConfig: {
          LambdaArn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          LambdaVersion: 'V2_0',
        },
      },
    });
    const [poolId] = Object.keys(template.findResources('AWS::Cognito::UserPool'));
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'cognito-idp.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      // Only this user pool may invoke the trigger, not another account's pool.
      SourceArn: { 'Fn::GetAtt': [poolId, 'Arn'] },
    });
  });

  it('lets no client write a tenant, tier or role: the only custom attribute is the immutable organisation name', () => {
    const [pool] = Object.values(template.findResources('AWS::Cognito::UserPool'));
    const schema: Array<{ Name: string; Mutable?: boolean }> = pool?.Properties.Schema;

    expect(schema.map((a) => a.Name)).toEqual(['email', 'name', 'organization']);
    expect(schema.find((a) => a.Name === 'organization')).toMatchObject({ Mutable: false });
    for (const client of Object.values(template.findResources('AWS::Cognito::UserPoolClient'))) {
      const writable: string[] = client.Properties.WriteAttributes ?? ['<all attributes>'];
      expect(
        writable.filter((name) => !['email', 'name', 'custom:organization'].includes(name)),
      ).toEqual([]);
      expect(writable.join()).not.toMatch(/tenant|tier|role/i);
    }
  });

  it('checks the organisation name before sign-up and creates the tenant after confirmation', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: Match.objectLike({
        PreSignUp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdentityPreSignUp'), 'Arn'] },
        PostConfirmation: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^OnboardingPostConfirmation'), 'Arn'],
        },
      }),
    });
  });

  it('requires a strong password', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
    });
  });

  it('gives MCP clients a public PKCE client: code grant only, no secret', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      ExplicitAuthFlows: Match.not(Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH'])),
    });
  });

  it('grants the MCP scope of the resource server to the client', () => {
    const [serverId] = Object.keys(template.findResources('AWS::Cognito::UserPoolResourceServer'));
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'mcp',
      Scopes: [Match.objectLike({ ScopeName: 'invoke' })],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthScopes: Match.arrayWith([{ 'Fn::Join': ['', [{ Ref: serverId }, '/invoke']] }]),
    });
  });

  it('issues short-lived access and ID tokens, rotates refresh tokens and allows revocation', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AccessTokenValidity: 30,
      IdTokenValidity: 30,
      RefreshTokenValidity: 30 * 24 * 60,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
      RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 10 },
      EnableTokenRevocation: true,
    });
  });

  it("serves Managed Login version 2 on the configured domain prefix, styled for the façade's client", () => {
    const custom = synthTemplate({ domainPrefix: 'acme-mcp-login' });

    custom.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: 'acme-mcp-login',
      ManagedLoginVersion: 2,
    });
    custom.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
      UseCognitoProvidedValues: true,
      ClientId: { Ref: Match.stringLikeRegexp('^IdentityUserPoolFacadeClient') },
    });
  });

  it('derives a default domain prefix from the stack name and account', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['multitenantmcp-', { Ref: 'AWS::AccountId' }]] },
    });
  });

  it.each(['Aws-Mcp', 'mcp-aws', 'amaawszon-saas', 'Cognito', `${'x'.repeat(39)}-aws-more`])(
    'makes a prefix Cognito accepts from a stack named %s',
    (stackName) => {
      const prefix = `${domainNameOf(stackName)}-123456789012`;
      expect(prefix).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
      expect(prefix).not.toMatch(/aws|amazon|cognito/);
    },
  );

  it('gives Cognito no longer than its 5-second trigger budget', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('tenant, tier and role'),
      Timeout: 5,
    });
  });

  it('outputs the user pool id, client id, issuer and Managed Login domain', () => {
    const outputs = Object.keys(template.findOutputs('*'));

    expect(outputs).toEqual(
      expect.arrayContaining([
        'UserPoolId',
        'ClientId',
        'Issuer',
        'ManagedLoginDomain',
        'McpScope',
      ]),
    );
  });

  it('keeps the user pool when the stack is deleted, but not after a failed create (no deletion protection to block it)', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'INACTIVE' }),
    });
  });

  it('lets the pre-token function read and create registry items by key, and queue a healed sign-up, nothing else', () => {
    const [registryId] = Object.keys(
      template.findResources('AWS::DynamoDB::GlobalTable', {
        Properties: { KeySchema: Match.arrayWith([{ AttributeName: 'pk', KeyType: 'HASH' }]) },
      }),
    ).filter((id) => id.startsWith('TenantDataRegistry'));
    const statements = policyStatements(template).filter((s) =>
      s.policy.startsWith('IdentityPreTokenGeneration'),
    );

    const dataStatements = statements.filter((s) =>
      actionsOf(s).some((a) => !a.startsWith('logs:')),
    );
    expect(dataStatements).toEqual([
      pseudonymKeyRead(template),
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [registryId, 'Arn'] },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^OnboardingProvisioning/), 'Arn'] },
      }),
    ]);
  });
});
