import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnManagedLoginBranding,
  ClientAttributes,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
} from 'aws-cdk-lib/aws-cognito';
import {
  AttributeType,
  Billing,
  type ITableV2,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AUTHORIZATION_SERVER_CONFIG } from '../../lambda/authorization-server/config.js';
import {
  facadeUrls,
  REFRESH_ROTATION_GRACE_SECONDS,
} from '../../lambda/shared/edge/oauth-metadata.js';
import { routesOf } from '../../lambda/shared/edge/routes.js';
import { OAUTH_TABLE, REGISTRY_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { ORGANIZATION_ATTRIBUTE } from '../../lambda/shared/registry/organization.js';
import { HandlerFunction } from './handler-function.js';
import type { Identity } from './identity.js';
import { leadingKeysLike } from './leading-keys.js';
import type { TokenSigningKey } from './token-signing-key.js';

/** A client MCP clients may use without registering (`client_id` and its redirect URIs). */
export interface PreRegisteredClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  readonly clientName?: string;
}

export interface AuthorizationFacadeProps {
  readonly identity: Identity;
  /** The REST API the façade's routes join (its own origin: MCP clients need one issuer). */
  readonly api: RestApi;
  /** The API's public base URL: the façade's issuer. */
  readonly apiBaseUrl: string;
  /** Agents (`AGENTS#`), memberships (`USER#`) and tenants (`TENANT#`), read by key. */
  readonly registryTable: ITableV2;
  /** Signs agents' and delegations' access tokens; its public half is in the façade's JWKS. */
  readonly tokenSigningKey: TokenSigningKey;
  /** Signs webhook credentials (the MCP function); its public half is in the JWKS too. */
  readonly webhookSigningKey: TokenSigningKey;
  /** Clients the operator registers up front (MCP Inspector, an assistant with a fixed id). */
  readonly preRegisteredClients: readonly PreRegisteredClient[];
  /**
   * Lifetime of Cognito's access and ID tokens, which the façade hands on. Short, because the kill
   * switch also acts at refresh.
   * @default Duration.minutes(30)
   */
  readonly tokenValidity?: Duration;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The OAuth authorization server MCP clients see, on the API's own origin, in front of Cognito
 * (which has no PKCE metadata, no client registration and refuses unknown `resource` values):
 * RFC 8414 metadata and its OpenID alias, Client ID Metadata Documents and dynamic
 * registration, the authorization, callback and token endpoints. Cognito remains the identity
 * provider through the façade's own app client, the only client whose tokens the authorizer
 * accepts.
 */
export class AuthorizationFacade extends Construct {
  readonly fn: HandlerFunction<typeof AUTHORIZATION_SERVER_CONFIG>;
  readonly table: TableV2;
  /** The façade's app client at Cognito: tokens for the MCP API are issued to it only. */
  readonly cognitoClient: UserPoolClient;
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: AuthorizationFacadeProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const { identity } = props;
    const urls = facadeUrls(props.apiBaseUrl);
    this.issuer = urls.issuer;
    const tokenValidity = props.tokenValidity ?? Duration.minutes(30);

    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: OAUTH_TABLE.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: OAUTH_TABLE.timeToLiveAttribute,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      // Off for retain-except-on-create (see tenant-data.ts).
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Records live minutes (transactions, one-time codes) to weeks (registrations, refresh ' +
        'bindings) and expire by TTL; a point-in-time restore would bring back spent codes.',
    });

    // A public client with PKCE: the façade holds no Cognito secret. Its one callback is the
    // façade's, so a code Cognito issues for it can only reach the façade.
    this.cognitoClient = identity.userPool.addClient('FacadeClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        // The MCP scope only: no `openid`, so tokens cannot read profiles from userInfo.
        scopes: [identity.mcpOAuthScope],
        callbackUrls: [urls.callback],
        logoutUrls: [urls.issuer],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: tokenValidity,
      idTokenValidity: tokenValidity,
      refreshTokenValidity: Duration.days(30),
      // Rotation: every refresh returns a new refresh token; the façade binds each to its client.
      refreshTokenRotationGracePeriod: Duration.seconds(REFRESH_ROTATION_GRACE_SECONDS),
      authSessionValidity: Duration.minutes(3),
      // Sign-up may write the e-mail, the name and the organisation name, nothing else.
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
        .withCustomAttributes(ORGANIZATION_ATTRIBUTE.replace('custom:', '')),
      writeAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, fullname: true })
        .withCustomAttributes(ORGANIZATION_ATTRIBUTE.replace('custom:', '')),
    });
    // Managed Login v2 shows its pages only for a client that has a style.
    new CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: identity.userPool.userPoolId,
      clientId: this.cognitoClient.userPoolClientId,
      useCognitoProvidedValues: true,
    });

    this.fn = new HandlerFunction(this, 'Function', {
      entry: 'authorization-server',
      config: AUTHORIZATION_SERVER_CONFIG,
      description: 'OAuth authorization server for MCP clients, in front of Cognito',
      memorySize: 256,
      environment: {
        API_BASE_URL: props.apiBaseUrl,
        OAUTH_TABLE_NAME: this.table.tableName,
        COGNITO_DOMAIN_URL: identity.domain.baseUrl(),
        COGNITO_CLIENT_ID: this.cognitoClient.userPoolClientId,
        JWT_ISSUER: identity.userPool.userPoolProviderUrl,
        JWKS_URI: `${identity.userPool.userPoolProviderUrl}/.well-known/jwks.json`,
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        TOKEN_SIGNING_KEY_ARN: props.tokenSigningKey.key.keyArn,
        WEBHOOK_SIGNING_KEY_ARN: props.webhookSigningKey.key.keyArn,
        REQUIRED_SCOPE: identity.mcpScope,
        PRE_REGISTERED_CLIENTS: JSON.stringify(props.preRegisteredClients),
      },
      removalPolicy,
    });
    // Item reads and conditional writes by key: no Query, no Scan, no other table.
    Grant.addToPrincipal({
      grantee: this.fn.fn,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ],
      resourceArns: [this.table.tableArn],
    });
    // Agents' grants: the agent, its tenant and (token exchange) the person's membership, read by
    // key; nothing else of the registry, and no write.
    Grant.addToPrincipal({
      grantee: this.fn.fn,
      actions: ['dynamodb:GetItem'],
      resourceArns: [props.registryTable.tableArn],
      conditions: leadingKeysLike(
        REGISTRY_TABLE.agentsKeyPrefix,
        REGISTRY_TABLE.userKeyPrefix,
        REGISTRY_TABLE.tenantKeyPrefix,
      ),
    });
    props.tokenSigningKey.grantSign(this.fn.fn);
    props.webhookSigningKey.grantPublicKey(this.fn.fn);

    const integration = new LambdaIntegration(this.fn.fn, { allowTestInvoke: false });
    for (const route of routesOf('authorizationServer')) {
      const resource = props.api.root.resourceForPath(route.path);
      for (const httpMethod of route.methods) {
        const method = resource.addMethod(httpMethod, integration, {
          authorizationType: AuthorizationType.NONE,
        });
        Validations.of(method).acknowledge(
          {
            id: 'AwsSolutions-APIG4',
            reason:
              'OAuth endpoints are how a client gets a token: they cannot require one. The ' +
              'façade checks every request itself (RFC 6749, 7591, 7636, 8707).',
          },
          {
            id: 'AwsSolutions-COG4',
            reason: 'OAuth authorization-server endpoints; no authorizer of any kind applies.',
          },
        );
      }
    }
  }
}
