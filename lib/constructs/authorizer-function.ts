import type { RemovalPolicy } from 'aws-cdk-lib';
import type { UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { AUTHORIZER_CONFIG } from '../../lambda/authorizer/config.js';
import { HandlerFunction } from './handler-function.js';
import type { Identity } from './identity.js';
import type { TokenSigningKey } from './token-signing-key.js';

export interface AuthorizerFunctionProps {
  readonly identity: Identity;
  /** The API's public base URL: the resource tokens must be bound to derives from it. */
  readonly apiBaseUrl: string;
  /** Tenants and memberships, read (GetItem) on every uncached request. */
  readonly registryTable: ITableV2;
  /** @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE (its log group) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The Lambda TOKEN authorizer of `/mcp` (lambda/authorizer): verifies the access token with the
 * user pool's keys, resolves the tenant and membership in the registry, and names the
 * tenant's API key. Each grant is set beside the variable that names what it grants.
 */
export class AuthorizerFunction extends HandlerFunction<typeof AUTHORIZER_CONFIG> {
  constructor(scope: Construct, id: string, props: AuthorizerFunctionProps) {
    super(scope, id, {
      entry: 'authorizer',
      config: AUTHORIZER_CONFIG,
      description: 'Verifies MCP access tokens and resolves the tenant',
      environment: {
        JWT_ISSUER: props.identity.userPool.userPoolProviderUrl,
        REQUIRED_SCOPE: props.identity.mcpScope,
        API_BASE_URL: props.apiBaseUrl,
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
      },
      removalPolicy: props.removalPolicy,
    });
    Grant.addToPrincipal({
      grantee: this.fn,
      actions: ['dynamodb:GetItem'],
      resourceArns: [props.registryTable.tableArn],
    });
  }

  /**
   * Agents' and delegations' tokens, which the façade signs with this key: the authorizer reads
   * its public half from KMS (never from the API it guards) and agents from the registry.
   */
  useTokenSigningKey(signing: TokenSigningKey): void {
    this.setEnvironment('TOKEN_SIGNING_KEY_ARN', signing.key.keyArn);
    signing.grantPublicKey(this.fn);
  }

  /**
   * The app clients whose tokens the authorizer accepts. Only the authorization façade's: a
   * token the same user pool issued to any other client (or through no MCP authorization
   * request at all) is refused, which binds tokens to this server (see the README).
   */
  acceptTokensFrom(clients: readonly UserPoolClient[]): void {
    this.setEnvironment('CLIENT_IDS', clients.map((client) => client.userPoolClientId).join(','));
  }
}
