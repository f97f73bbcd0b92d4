import { describe, expect, it } from 'vitest';
import { actionsOf, policyStatements, synthTemplate } from '../support/app.js';

/**
 * The platform's signing keys (issue 18): who may sign with the access-token key decides who
 * can mint an agent's token, so only the façade may; the MCP function signs webhook
 * credentials with a key of their own, which the authorizer does not trust.
 */
const template = synthTemplate();
const keys = template.findResources('AWS::KMS::Key');
const keyId = (prefix: string) => Object.keys(keys).find((id) => id.startsWith(prefix)) ?? '';
const functionRole = (description: RegExp) => {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    description.test(String(f.Properties.Description)),
  );
  return fn?.Properties.Role['Fn::GetAtt'][0] as string;
};
const facade = functionRole(/^OAuth authorization server/);
const mcp = functionRole(/^Stateless MCP server/);
const authorizer = functionRole(/^Verifies MCP access tokens/);
const onKey = (id: string) =>
  policyStatements(template).filter((s) => JSON.stringify(s.Resource).includes(id));
const rolesWith = (id: string, action: string) =>
  onKey(id)
    .filter((s) => actionsOf(s).includes(action))
    .flatMap((s) => s.roles)
    .sort();

describe('signing keys', () => {
  it.each([
    ['TokenSigning', /access tokens/],
    ['WebhookSigning', /webhook/],
  ])(
    '%s is an RSA 2048 signing key, kept when the stack goes, with no KMS grants but for AWS services',
    (prefix, purpose) => {
      const key = keys[keyId(prefix)];

      expect(key?.Properties).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
      expect(key?.Properties.Description).toMatch(purpose);
      expect(key?.DeletionPolicy).toBe('RetainExceptOnCreate');
      expect(key?.Properties.KeyPolicy.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
          Condition: {
            BoolIfExists: {
              'kms:GrantIsForAWSResource': 'false',
              'aws:PrincipalIsAWSService': 'false',
            },
          },
        }),
      );
    },
  );

  it('lets only the façade sign access tokens, the authorizer and façade read their key', () => {
    const id = keyId('TokenSigning');

    expect(rolesWith(id, 'kms:Sign')).toEqual([facade]);
    expect(rolesWith(id, 'kms:GetPublicKey')).toEqual([authorizer, facade].sort());
  });

  it('lets only the MCP function sign webhook credentials, and the façade publish their key', () => {
    const id = keyId('WebhookSigning');

    expect(rolesWith(id, 'kms:Sign')).toEqual([mcp]);
    expect(rolesWith(id, 'kms:GetPublicKey')).toEqual([facade, mcp].sort());
  });

  it('signs only SHA-256 digests with the one algorithm, and grants nothing else on either key', () => {
    for (const id of [keyId('TokenSigning'), keyId('WebhookSigning')]) {
      const statements = onKey(id);
      for (const sign of statements.filter((s) => actionsOf(s).includes('kms:Sign'))) {
        expect(sign.Condition).toEqual({
          StringEquals: {
            'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256',
            'kms:MessageType': 'DIGEST',
          },
        });
      }
      expect(
        statements.flatMap(actionsOf).every((a) => a === 'kms:Sign' || a === 'kms:GetPublicKey'),
      ).toBe(true);
    }
  });
});
