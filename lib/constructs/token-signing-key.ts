import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TokenSigningKeyProps {
  /** What it signs, for the key's description. */
  readonly signs: string;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An asymmetric KMS key (RSA_2048, SIGN_VERIFY, RS256) that signs one kind of thing the
 * platform issues itself. The stack has two: one for agents' and delegations' access tokens,
 * which only the authorization façade may sign with and the authorizer trusts, and one for the
 * credential each webhook delivery carries, which only the MCP function may sign with; so a
 * fault in the tenant-facing MCP function can sign a webhook credential, never an access
 * token. The private keys never leave KMS; the façade publishes both public halves as its
 * JWKS, and the authorizer reads the access-token key's from KMS. KMS cannot rotate an
 * asymmetric key automatically (see SECURITY.md).
 */
export class TokenSigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: TokenSigningKeyProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: `Signs ${props.signs} (RS256)`,
      keySpec: KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      // Every outstanding token and webhook receiver depends on it: never deleted with a stack.
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      pendingWindow: Duration.days(30),
    });
    // No one uses it through a KMS grant: grants would bypass the key policy and IAM.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NoGrantsExceptForAwsServices',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      }),
    );
  }

  /**
   * Sign with it (and read its public key, whose thumbprint is each token's `kid`): only a
   * SHA-256 digest, with the one algorithm the platform's JWTs use.
   */
  grantSign(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['kms:Sign'],
      resourceArns: [this.key.keyArn],
      conditions: {
        StringEquals: {
          'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256',
          'kms:MessageType': 'DIGEST',
        },
      },
    });
    this.grantPublicKey(grantee);
  }

  /** Read its public key only: to verify what it signed. */
  grantPublicKey(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['kms:GetPublicKey'],
      resourceArns: [this.key.keyArn],
    });
  }
}
