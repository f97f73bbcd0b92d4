import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TokenSigningKeyProps {
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The asymmetric KMS key (RSA_2048, SIGN_VERIFY, RS256) that signs what the platform issues
 * itself: agents' and delegations' access tokens (the authorization façade) and the credential
 * each webhook delivery carries (the MCP function). The private key never leaves KMS; the
 * public half is published as a JWKS by the façade and read from KMS by the authorizer.
 * KMS cannot rotate an asymmetric key automatically: rotation is a new key and a JWKS that
 * lists both for a token lifetime (see SECURITY.md).
 */
export class TokenSigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: TokenSigningKeyProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Signs agent and delegation access tokens and webhook credentials (RS256)',
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

  /** Sign with it (and read its public key, whose thumbprint is each token's `kid`). */
  grantSign(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['kms:Sign', 'kms:GetPublicKey'],
      resourceArns: [this.key.keyArn],
    });
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
