import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { OutboundDocument } from '../shared/outbound.js';
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

/** A printable name without control characters (it is shown on the consent page). */
const ClientName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'control characters');

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

/** What a public client may ask for: the code flow, refresh, and no client secret. */
const ClientMetadata = z.object({
  redirect_uris: RedirectUris,
  client_name: ClientName.optional(),
  token_endpoint_auth_method: z.literal('none').optional(),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token']))
    .min(1)
    .optional(),
  response_types: z.array(z.literal('code')).min(1).optional(),
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
  /** How long a dynamically registered client is kept. @default 90 days */
  readonly registrationTtlSeconds?: number;
  readonly now?: () => number;
}

/** Metadata documents cached per environment, at most this many (oldest dropped first). */
const DOCUMENT_CACHE_ENTRIES = 500;

/**
 * Resolves a `client_id` in the order the MCP authorization spec gives: pre-registered
 * clients, then Client ID Metadata Documents (an https `client_id` is the URL of its own
 * metadata), then clients registered with RFC 7591 dynamic registration.
 */
export class ClientDirectory {
  private readonly documents = new Map<string, { client: OAuthClient; until: number }>();

  constructor(private readonly options: ClientDirectoryOptions) {}

  private now() {
    return (this.options.now ?? Date.now)();
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
    if (cached && cached.until > this.now()) return cached.client;
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
      url.hash ||
      url.username ||
      url.password ||
      /\/\.\.?(\/|$)/.test(url.pathname)
    ) {
      throw invalid('client_id URL is not in canonical form or has no path');
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
    const client: OAuthClient = {
      clientId,
      redirectUris: parsed.data.redirect_uris,
      ...(parsed.data.client_name ? { clientName: parsed.data.client_name } : {}),
      kind: 'metadata-document',
    };
    if (this.documents.size >= DOCUMENT_CACHE_ENTRIES) {
      this.documents.delete(this.documents.keys().next().value as string);
    }
    this.documents.set(clientId, {
      client,
      until: this.now() + (this.options.documentCacheSeconds ?? 300) * 1000,
    });
    return client;
  }

  /** RFC 7591: a public client with its redirect URIs, kept for a bounded time. */
  async register(request: z.infer<typeof RegistrationRequest>) {
    const issuedAt = Math.floor(this.now() / 1000);
    const ttl = this.options.registrationTtlSeconds ?? 90 * 24 * 3600;
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
