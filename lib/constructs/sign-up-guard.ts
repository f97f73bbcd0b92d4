import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import {
  SIGN_UP_BLOCK_RESPONSE,
  SIGN_UP_LIMITS,
  SIGN_UP_REQUESTS,
  type SourceRate,
  sourceRateProblem,
} from '../../lambda/shared/lifecycle/sign-up-limits.js';

export interface SignUpGuardProps {
  /** The user pool whose sign-ups (its API and its Managed Login pages) are limited. */
  readonly userPool: IUserPool;
  /**
   * Sign-up requests one source address may make in the trailing window.
   * @default SIGN_UP_LIMITS.perSource (lambda/shared/lifecycle/sign-up-limits.ts)
   */
  readonly perSource?: SourceRate;
}

/** The rule's name, also its CloudWatch metric's (`AWS/WAFV2`, dimension `Rule`). */
export const SIGN_UP_RULE_NAME = 'SignUpsPerSource';

/**
 * Sign-ups limited per source address, before Cognito or any trigger runs: an AWS WAF web ACL
 * (REGIONAL) associated with the user pool, whose one rate-based rule counts, per client IP
 * address, the Cognito API's SignUp calls and Managed Login's sign-up form posts, and blocks a
 * source past the limit with a 429 and a JSON body that says why. Every other request passes
 * (default action Allow). Cognito hands WAF the requests of its API and of Managed Login alike
 * ("Associate an AWS WAF web ACL with a user pool", Amazon Cognito Developer Guide); requests WAF
 * blocks do not count towards the pool's API rate quotas.
 *
 * The rule is approximate, as WAF's rate-based rules are: WAF estimates the rate and may act
 * some seconds late, so a burst can pass a few requests over the limit before the block
 * (usually within 30 seconds). The daily cap in the pre-sign-up trigger is exact. The local
 * equivalent (local/stand-ins/waf.ts) counts exactly, which is stricter.
 */
export class SignUpGuard extends Construct {
  readonly webAcl: CfnWebACL;
  readonly association: CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: SignUpGuardProps) {
    super(scope, id);
    const rate = props.perSource ?? SIGN_UP_LIMITS.perSource;
    const problem = sourceRateProblem(rate);
    if (problem) throw new Error(`Invalid sign-up rate: ${problem}`);

    const lowercase = [{ priority: 0, type: 'LOWERCASE' }];
    const apiSignUp: CfnWebACL.StatementProperty = {
      byteMatchStatement: {
        // An untyped property in CloudFormation's schema: CDK passes its keys as written.
        fieldToMatch: { singleHeader: { Name: 'x-amz-target' } },
        positionalConstraint: 'EXACTLY',
        searchString: SIGN_UP_REQUESTS.apiTarget.toLowerCase(),
        textTransformations: lowercase,
      },
    };
    const pageSignUp: CfnWebACL.StatementProperty = {
      andStatement: {
        statements: [
          {
            byteMatchStatement: {
              fieldToMatch: { method: {} },
              positionalConstraint: 'EXACTLY',
              searchString: SIGN_UP_REQUESTS.pageMethod,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          {
            byteMatchStatement: {
              fieldToMatch: { uriPath: {} },
              positionalConstraint: 'STARTS_WITH',
              searchString: SIGN_UP_REQUESTS.pagePath,
              textTransformations: lowercase,
            },
          },
        ],
      },
    };

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Limits sign-ups per source address: Cognito API SignUp, Managed Login sign-up',
      defaultAction: { allow: {} },
      customResponseBodies: {
        [SIGN_UP_BLOCK_RESPONSE.bodyKey]: {
          contentType: 'APPLICATION_JSON',
          content: SIGN_UP_BLOCK_RESPONSE.body,
        },
      },
      rules: [
        {
          name: SIGN_UP_RULE_NAME,
          priority: 0,
          statement: {
            rateBasedStatement: {
              limit: rate.limit,
              evaluationWindowSec: rate.windowSeconds,
              aggregateKeyType: 'IP',
              scopeDownStatement: { orStatement: { statements: [apiSignUp, pageSignUp] } },
            },
          },
          action: {
            block: {
              customResponse: {
                responseCode: SIGN_UP_BLOCK_RESPONSE.status,
                customResponseBodyKey: SIGN_UP_BLOCK_RESPONSE.bodyKey,
              },
            },
          },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            sampledRequestsEnabled: true,
            metricName: SIGN_UP_RULE_NAME,
          },
        },
      ],
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName: 'SignUpGuard',
      },
    });
    this.association = new CfnWebACLAssociation(this, 'UserPoolAssociation', {
      resourceArn: props.userPool.userPoolArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
