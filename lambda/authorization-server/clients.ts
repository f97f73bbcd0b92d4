import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { OutboundDocument } from '../shared/outbound/outbound.js';
import { OAuthError } from './oauth-error.js';
import { redirectUriProblem } from './redirect-uris.js';
import type { FacadeStore } from './store.js';

/** A client the façade knows, however it came to know it. */
export interface OAuthClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  readonly clientName?: string;
  /**
   * Pre-registered clients are the operator's; the others registered themselves, so a person
   * approves them on the consent page before Cognito is asked (the MCP spec's confused-deputy
   * rule for proxies in front of another authorization server).
   */
  readonly kind: 'pre-registered' | 'metadata-document' | 'registered';
}

/** A printable name (it is shown on the consent page): control characters are dropped. */
const ClientName = z
  .string()
  .max(200)
  .transform((name) =>
    name
      .replace(/[\p{Cc}\p{Cf}]/gu, '')
      .trim()
      .slice(0, 100),
  )
  .pipe(z.string().min(1));

const RedirectUris = z
  .array(
    z
      .string()
      .max(2000)
      .superRefine((value, ctx) => {
        const problem = redirectUriProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  )
  .min(1)
  .max(10);

/**
 * What a client may register. Every client is public here (the code flow with PKCE and
 * refresh, no secret): as RFC 7591 3.2.1 allows, the server registers its own values in place
 * of other authentication methods and drops grant types it does not offer, and says so in its
 * answer; a client that cannot use the code flow at all is refused.
 */
const ClientMetadata = z.object({
  redirect_uris: RedirectUris,
  client_name: ClientName.optional().catch(undefined),
  token_endpoint_auth_method: z.string().max(100).optional(),
  grant_types: z
    .array(z.string().max(100))
    .max(10)
    .optional()
    .refine((types) => !types || types.includes('authorization_code'), {
      message: 'the authorization_code grant is required',
    }),
  response_types: z
    .array(z.string().max(100))
    .max(10)
    .optional()
    .refine((types) => !types || types.includes('code'), {
      message: 'the code response type is required',
    }),
  scope: z.string().max(1000).optional(),
});

/** RFC 7591 registration request: unknown fields (logo_uri, contacts...) are ignored. */
export const RegistrationRequest = ClientMetadata;

export interface ClientDirectoryOptions {
  readonly preRegistered: readonly OAuthClient[];
  readonly store: FacadeStore;
  /** GETs a metadata document through the SSRF-safe outbound policy. */
  readonly fetchDocument: (url: URL) => Promise<OutboundDocument>;
  /** @default 300 */
  readonly documentCacheSeconds?: number;
  /** How long a dynamically registered client is kept after its last sign-in. @default 90 days */
  readonly registrationTtlSeconds?: number;
  /**
   * Hosts a metadata document may not be on (the API's own: the façade must not call itself).
   */
  readonly forbiddenHosts?: readonly string[];
  /**
   * Development only: documents on any port (tests serve them on a random loopback port). On
   * AWS only the https default port is fetched, so the façade cannot probe other services.
   * @default false
   */
  readonly anyPort?: boolean;
  readonly now?: () => number;
}

/** How long a document that could not be used is not fetched again. */
const FAILED_DOCUMENT_SECONDS = 60;

/** Metadata documents cached per environment, at most this many (oldest dropped first). */
const DOCUMENT_CACHE_ENTRIES = 500;

/**
 * Resolves a `client_id` in the order the MCP authorization spec gives: pre-registered
 * clients, then Client ID Metadata Documents (an https `client_id` is the URL of its own
 * metadata), then clients registered with RFC 7591 dynamic registration.
 */
export class ClientDirectory {
  private readonly documents = new Map<
    string,
    { client: OAuthClient; until: number } | { error: OAuthError; until: number }
  >();

  constructor(private readonly options: ClientDirectoryOptions) {}

  private now() {
    return (this.options.now ?? Date.now)();
  }

  /**
   * The client of a token request. A metadata-document client is not fetched again: the code
   * or refresh token it presents is bound to its client id, checked when it was authorized,
   * so an outage of the client's website does not cost it its sign-in.
   */
  async forTokenRequest(clientId: string): Promise<OAuthClient | undefined> {
    if (clientId.startsWith('https://') && clientId.length <= 2000) {
      return { clientId, redirectUris: [], kind: 'metadata-document' };
    }
    return this.find(clientId);
  }

  async find(clientId: string): Promise<OAuthClient | undefined> {
    const known = this.options.preRegistered.find((client) => client.clientId === clientId);
    if (known) return known;
    if (clientId.startsWith('https://')) return this.fromMetadataDocument(clientId);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(clientId)) return undefined;
    const registered = await this.options.store.getClient(clientId);
    return registered && { ...registered, kind: 'registered' };
  }

  /**
   * Fetches, checks and caches a Client ID Metadata Document: the URL is https with a path and
   * nothing that could make two URLs name one client, the document is JSON, at most 5 KiB
   * (the draft's advice), fetched within 3 s, and its `client_id` is exactly its URL.
   */
  private async fromMetadataDocument(clientId: string): Promise<OAuthClient> {
    const cached = this.documents.get(clientId);
    if (cached && cached.until > this.now()) {
      if ('error' in cached) throw cached.error;
      return cached.client;
    }
    try {
      const client = await this.fetchMetadataDocument(clientId);
      this.remember(clientId, {
        client,
        until: this.now() + (this.options.documentCacheSeconds ?? 300) * 1000,
      });
      return client;
    } catch (error) {
      // A failure is remembered briefly too: the façade is no amplifier for repeated fetches.
      if (error instanceof OAuthError) {
        this.remember(clientId, { error, until: this.now() + FAILED_DOCUMENT_SECONDS * 1000 });
      }
      throw error;
    }
  }

  private remember(
    clientId: string,
    entry: { client: OAuthClient; until: number } | { error: OAuthError; until: number },
  ) {
    this.documents.delete(clientId);
    if (this.documents.size >= DOCUMENT_CACHE_ENTRIES) {
      this.documents.delete(this.documents.keys().next().value as string);
    }
    this.documents.set(clientId, entry);
  }

  private async fetchMetadataDocument(clientId: string): Promise<OAuthClient> {
    const invalid = (detail: string) =>
      new OAuthError(
        'invalid_client',
        'The client metadata document is not acceptable.',
        400,
        detail,
      );
    let url: URL;
    try {
      url = new URL(clientId);
    } catch {
      throw invalid('client_id is not a URL');
    }
    if (
      url.href !== clientId ||
      url.pathname === '/' ||
      // One client, one URL: no query string (the draft's SHOULD NOT), which would also make
      // every fetch a new one past the caches.
      url.search ||
      url.hash ||
      url.username ||
      url.password ||
      /\/\.\.?(\/|$)/.test(url.pathname)
    ) {
      throw invalid('client_id URL is not in canonical form or has no path');
    }
    if (url.port && !this.options.anyPort) throw invalid('client_id URL names a port');
    if (this.options.forbiddenHosts?.includes(url.hostname.replace(/\.$/, '').toLowerCase())) {
      throw invalid('client_id URL is on this server');
    }
    let document: OutboundDocument;
    try {
      document = await this.options.fetchDocument(url);
    } catch (error) {
      throw invalid(`metadata document fetch refused: ${(error as Error).message}`);
    }
    if (document.status !== 200) throw invalid(`metadata document answered ${document.status}`);
    if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(document.contentType)) {
      throw invalid('metadata document is not JSON');
    }
    let body: unknown;
    try {
      body = JSON.parse(document.body);
    } catch {
      throw invalid('metadata document does not parse');
    }
    const parsed = ClientMetadata.extend({ client_id: z.string() }).safeParse(body);
    if (!parsed.success) throw invalid(`metadata document is invalid: ${parsed.error.message}`);
    if (parsed.data.client_id !== clientId) {
      throw invalid('metadata document client_id differs from its URL');
    }
    return {
      clientId,
      redirectUris: parsed.data.redirect_uris,
      ...(parsed.data.client_name ? { clientName: parsed.data.client_name } : {}),
      kind: 'metadata-document',
    };
  }

  registrationTtl(): number {
    return this.options.registrationTtlSeconds ?? 90 * 24 * 3600;
  }

  /** RFC 7591: a public client with its redirect URIs, kept for a bounded time. */
  async register(request: z.infer<typeof RegistrationRequest>) {
    const issuedAt = Math.floor(this.now() / 1000);
    const ttl = this.registrationTtl();
    const client = {
      clientId: randomUUID(),
      redirectUris: request.redirect_uris,
      ...(request.client_name ? { clientName: request.client_name } : {}),
      issuedAt,
    };
    await this.options.store.putClient(client, ttl);
    return { ...client, expiresAt: issuedAt + ttl };
  }
}
