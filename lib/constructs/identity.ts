import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  LambdaVersion,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  StringAttribute,
  UserPool,
  type UserPoolDomain,
  UserPoolOperation,
  VerificationEmailStyle,
} from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type * as z from 'zod';
import { PRE_SIGN_UP_CONFIG } from '../../lambda/pre-sign-up/config.js';
import { PRE_TOKEN_GENERATION_CONFIG } from '../../lambda/pre-token-generation/config.js';
import { SIGN_UP_LIMITS } from '../../lambda/shared/lifecycle/sign-up-limits.js';
import { REGISTRY_TABLE, USAGE_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { ORGANIZATION_ATTRIBUTE } from '../../lambda/shared/registry/organization.js';
import { HandlerFunction } from './handler-function.js';

export interface IdentityProps {
  /** The tenant registry the pre-token-generation trigger reads memberships from. */
  readonly registryTable: ITableV2;
  /** The platform's counters, where the pre-sign-up trigger counts the day's self sign-ups. */
  readonly usageTable: ITableV2;
  /**
   * Self sign-ups per UTC day before the pre-sign-up trigger refuses more.
   * @default SIGN_UP_LIMITS.dailyCap (lambda/shared/lifecycle/sign-up-limits.ts)
   */
  readonly signUpDailyCap?: number;
  /**
   * Prefix of the Cognito domain that serves Managed Login
   * (`https://<prefix>.auth.<region>.amazoncognito.com`). Unique per Region.
   * @default - `<stack name>-<account id>`: the stack name lowercased, without characters
   * other than a-z, 0-9 and '-' and without "aws", "amazon" and "cognito" (which Cognito
   * refuses in a prefix), cut to 40 characters ('mcp' if nothing is left)
   */
  readonly domainPrefix?: string;
  /**
   * Identifier of the resource server whose scope marks tokens meant for the MCP API.
   * @default 'mcp'
   */
  readonly resourceServerIdentifier?: string;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Who the users are and which tenant their tokens carry: a Cognito user pool (Essentials
 * plan, self sign-up with e-mail verification, Managed Login v2), a resource server scope for
 * the MCP API, and the pre-token-generation V2 trigger that adds the tenant claims from the
 * registry. MCP clients never talk to Cognito directly: the authorization façade
 * (authorization-facade.ts) has the one app client, and sends people to Managed Login.
 *
 * No attribute a client can write decides the tenant: the only custom attribute is the
 * organisation name given at sign-up, which names a new tenant and is immutable.
 */
export class Identity extends Construct {
  readonly userPool: UserPool;
  readonly domain: UserPoolDomain;
  /** The full scope (`<identifier>/<name>`) an access token needs to call the MCP API. */
  readonly mcpScope: string;
  readonly mcpOAuthScope: OAuthScope;
  readonly preTokenGeneration: HandlerFunction<typeof PRE_TOKEN_GENERATION_CONFIG>;
  /**
   * The key of the keyed hash that stands for a user id in logs and usage counters (see
   * lambda/shared/platform/pseudonym.ts). Generated at deploy time; no person needs to read it.
   */
  readonly pseudonymKey: Secret;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

    this.userPool = new UserPool(this, 'UserPool', {
      featurePlan: FeaturePlan.ESSENTIALS,
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      userVerification: { emailStyle: VerificationEmailStyle.CODE },
      standardAttributes: {
        email: { required: true, mutable: true },
        fullname: { required: false, mutable: true },
      },
      // The organisation name typed at sign-up: it names the new tenant for people, once.
      // It decides nothing about which tenant a user is in (that is the registry's job), and
      // it cannot be changed afterwards.
      customAttributes: {
        [ORGANIZATION_ATTRIBUTE.replace('custom:', '')]: new StringAttribute({
          minLen: 1,
          maxLen: 100,
          mutable: false,
        }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Off for retain-except-on-create (see tenant-data.ts).
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is OPTIONAL (TOTP, enrolled through the Cognito API) so that sign-up through ' +
          'Managed Login works for every MCP client; a fork serving regulated tenants sets ' +
          'Mfa.REQUIRED, which Managed Login then enforces at sign-in.',
      },
      {
        id: 'AwsSolutions-COG3',
        reason:
          'Threat protection (advanced security) needs the PLUS feature plan; this reference ' +
          'uses ESSENTIALS, the lowest plan with access-token customization (pre-token V2).',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'ESSENTIALS has every feature this design needs (Managed Login, pre-token V2) at a ' +
          'lower price per monthly active user; PLUS adds only threat protection (see COG3).',
      },
    );

    const mcpInvoke = new ResourceServerScope({
      scopeName: 'invoke',
      scopeDescription: 'Call the tools of the multi-tenant MCP server',
    });
    const resourceServer = this.userPool.addResourceServer('McpApi', {
      identifier: props.resourceServerIdentifier ?? 'mcp',
      userPoolResourceServerName: 'MCP API',
      scopes: [mcpInvoke],
    });
    this.mcpOAuthScope = OAuthScope.resourceServer(resourceServer, mcpInvoke);
    this.mcpScope = this.mcpOAuthScope.scopeName;

    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? defaultDomainPrefix(this) },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    this.pseudonymKey = new Secret(this, 'PseudonymKey', {
      description: 'Key of the keyed hash that pseudonymises user ids in logs and usage counters',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    Validations.of(this.pseudonymKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Not a credential: rotating the pseudonym key would only break the link between one user's log lines before and after the rotation.",
    });

    this.preTokenGeneration = new HandlerFunction(this, 'PreTokenGeneration', {
      entry: 'pre-token-generation',
      config: PRE_TOKEN_GENERATION_CONFIG,
      // Cognito waits 5 seconds for a trigger.
      timeout: Duration.seconds(5),
      description: 'Adds the tenant, tier and role from the registry to Cognito tokens',
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
      removalPolicy,
    });
    // Point reads of membership and tenant records, and (granted by the onboarding construct)
    // the sign-up writes that heal a sign-up whose post-confirmation failed: no Query, no Scan.
    this.grantPseudonyms(this.preTokenGeneration);
    this.userPool.addTrigger(
      UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      this.preTokenGeneration.fn,
      LambdaVersion.V2_0,
    );

    const preSignUp = new HandlerFunction(this, 'PreSignUp', {
      entry: 'pre-sign-up',
      config: PRE_SIGN_UP_CONFIG,
      description:
        'Refuses sign-ups with an invalid organisation name or invitation, or past the daily cap',
      memorySize: 128,
      timeout: Duration.seconds(5),
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        USAGE_TABLE_NAME: props.usageTable.tableName,
        SIGN_UP_DAILY_CAP: String(props.signUpDailyCap ?? SIGN_UP_LIMITS.dailyCap),
      },
      removalPolicy,
    });
    // Reads the invitation (offer) a sign-up names, and its tenant's record: nothing else.
    Grant.addToPrincipal({
      grantee: preSignUp.fn,
      actions: ['dynamodb:GetItem'],
      resourceArns: [props.registryTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [
            `${REGISTRY_TABLE.invitesKeyPrefix}*`,
            `${REGISTRY_TABLE.tenantKeyPrefix}*`,
          ],
        },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    // Counts the day's self sign-ups (lambda/shared/lifecycle/sign-up-cap.ts): one UpdateItem on
    // the day's counter, no other item of the usage table, no read.
    Grant.addToPrincipal({
      grantee: preSignUp.fn,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [props.usageTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`${USAGE_TABLE.signUpsKeyPrefix}*`],
        },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    this.userPool.addTrigger(UserPoolOperation.PRE_SIGN_UP, preSignUp.fn);
  }

  /** Lets a function compute user pseudonyms: read access to the key, and where to find it. */
  grantPseudonyms(handler: HandlerFunction<{ PSEUDONYM_KEY_SECRET_ID: z.ZodType }>): void {
    this.pseudonymKey.grantRead(handler.fn);
    handler.setEnvironment('PSEUDONYM_KEY_SECRET_ID', this.pseudonymKey.secretArn);
  }
}

/** Unique per stack, account and Region, so a dev and a prod stack in one account never clash. */
function defaultDomainPrefix(scope: Construct): string {
  return `${domainNameOf(Stack.of(scope).stackName)}-${Aws.ACCOUNT_ID}`;
}

/**
 * The stack name's part of the default domain prefix, within Cognito's rules for a prefix:
 * lower-case letters, digits and hyphens, neither first nor last, and never "aws", "amazon"
 * or "cognito" (removed until none is left: removing one can join the letters of another).
 */
export function domainNameOf(stackName: string): string {
  let name = stackName.toLowerCase().replace(/[^a-z0-9-]/g, '');
  for (let before = ''; before !== name; ) {
    before = name;
    name = name.replace(/aws|amazon|cognito/g, '');
  }
  name = name.slice(0, 40).replace(/^-+|-+$/g, '');
  return name || 'mcp';
}
