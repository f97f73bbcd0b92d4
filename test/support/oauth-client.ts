import {
  type OAuthClientProvider,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { type BrowserOutcome, completeInBrowser, type Person } from './browser-flow.js';
import { harness, mcpUrl } from './mcp.js';
import { inbox } from './stand-in.js';

type Provider = OAuthClientProvider;
type Stored<K extends keyof Provider> = Provider[K] extends (...args: never[]) => infer R
  ? Awaited<R>
  : never;

/**
 * An MCP client application's OAuth state, kept in memory: what the SDK's OAuth client asks a
 * real client to remember (its registration, tokens, PKCE verifier, discovery), and the
 * authorization URL it would open in a browser. Registration follows the SDK's own order:
 * a `clientId` given here (pre-registered), else a metadata document URL (CIMD) if the server
 * supports it, else dynamic registration.
 */
export class TestOAuthClient implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private client: Stored<'clientInformation'>;
  private stored: Stored<'tokens'>;
  private verifier = '';
  private discovery: unknown;
  readonly clientMetadataUrl?: string;

  constructor(
    private readonly options: {
      redirectUrl: string;
      clientId?: string;
      clientMetadataUrl?: string;
      clientName?: string;
    },
  ) {
    if (options.clientId) this.client = { client_id: options.clientId };
    if (options.clientMetadataUrl) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl() {
    return this.options.redirectUrl;
  }

  get clientMetadata() {
    return {
      client_name: this.options.clientName ?? 'Test MCP client',
      redirect_uris: [this.options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this.client;
  }
  saveClientInformation(information: NonNullable<Stored<'clientInformation'>>) {
    this.client = information;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: NonNullable<Stored<'tokens'>>) {
    this.stored = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  discoveryState() {
    return this.discovery as Stored<'discoveryState'>;
  }
  saveDiscoveryState(state: unknown) {
    this.discovery = state;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.stored = undefined;
    if ((scope === 'all' || scope === 'client') && !this.options.clientId) this.client = undefined;
  }
}

/** The local stack as a browser meets it: its origins (façade and MCP, Managed Login) and inbox. */
export const localStack = (origins = [harness().gatewayUrl, harness().issuerUrl]) => ({
  origins: origins.map((url) => new URL(url).origin),
  inbox,
});

/**
 * The whole sign-in of an MCP client as the SDK runs it: a request without a token gets the
 * 401, the SDK discovers the façade and starts the authorization, the person completes it in
 * the "browser", and the SDK finishes with the code from the redirect. Returns the browser's
 * outcome; the client then holds tokens.
 */
export async function signIn(client: TestOAuthClient, person: Person): Promise<BrowserOutcome> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl()), { authProvider: client });
  await transport.start();
  const first = transport.send({ jsonrpc: '2.0', id: 1, method: 'ping', params: {} });
  await first.then(
    () => {
      throw new Error('the server answered without a token');
    },
    (error: unknown) => {
      if (!(error instanceof UnauthorizedError)) throw error;
    },
  );
  if (!client.authorizationUrl) throw new Error('the client was not sent to authorize');
  const outcome = await completeInBrowser(client.authorizationUrl, person, localStack());
  const { redirect } = outcome;
  if (redirect.searchParams.get('error')) return outcome;
  await transport.finishAuth(redirect.searchParams);
  await transport.close();
  return outcome;
}
