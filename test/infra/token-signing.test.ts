import { describe, expect, it } from 'vitest';
import { actionsOf, policyStatements, synthTemplate } from '../support/app.js';

/**
 * The platform's token signing key (issue 18): who may sign with it decides who can mint an
 * agent's token, so exactly two roles may, and the authorizer may only read its public half.
 */
const template = synthTemplate();
const [keyId, key] = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) =>
  id.startsWith('TokenSigning'),
) ?? ['', undefined];
const functionRole = (description: RegExp) => {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    description.test(String(f.Properties.Description)),
  );
  return fn?.Properties.Role['Fn::GetAtt'][0] as string;
};
const onKey = policyStatements(template).filter((s) => JSON.stringify(s.Resource).includes(keyId));

describe('token signing key', () => {
  it('is an RSA 2048 signing key, kept when the stack goes, with no KMS grants but for AWS services', () => {
    expect(key?.Properties).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
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
  });

  it('lets only the façade and the MCP function sign, and the authorizer read the public key', () => {
    const signers = onKey.filter((s) => actionsOf(s).includes('kms:Sign')).flatMap((s) => s.roles);
    const readers = onKey
      .filter((s) => actionsOf(s).includes('kms:GetPublicKey'))
      .flatMap((s) => s.roles);

    expect(signers.sort()).toEqual(
      [functionRole(/^OAuth authorization server/), functionRole(/^Stateless MCP server/)].sort(),
    );
    expect(readers).toContain(functionRole(/^Verifies MCP access tokens/));
    expect(onKey.flatMap(actionsOf).every((a) => a === 'kms:Sign' || a === 'kms:GetPublicKey')).toBe(
      true,
    );
  });
});
