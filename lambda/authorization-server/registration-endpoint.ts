import { RegistrationRequest } from './clients.js';
import { FacadeEndpoint } from './endpoint.js';
import { type FacadeRequest, type FacadeResponse, json } from './http.js';
import { OAuthError } from './oauth-error.js';
import { digest } from './secrets.js';

/** RFC 7591 dynamic registration of public clients, bounded per source and in all. */
export class RegistrationEndpoint extends FacadeEndpoint {
  async register(request: FacadeRequest): Promise<FacadeResponse> {
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new OAuthError('invalid_client_metadata', 'The registration must be JSON.');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      throw new OAuthError('invalid_client_metadata', 'The registration is not valid JSON.');
    }
    const parsed = RegistrationRequest.safeParse(body);
    if (!parsed.success) {
      const redirect = parsed.error.issues.some((issue) => issue.path[0] === 'redirect_uris');
      throw new OAuthError(
        redirect ? 'invalid_redirect_uri' : 'invalid_client_metadata',
        redirect
          ? 'Redirect URIs must be https, http on loopback, or a native app scheme, without fragments.'
          : 'The client metadata is not acceptable: public clients with the code flow only.',
        400,
        parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
      );
    }
    const limits = this.options.registrationLimits ?? { perSource: 20, total: 1_000 };
    const hour = Math.floor(Date.now() / 3_600_000);
    const admitted = await this.options.store.admit([
      {
        // The source address, hashed: the table keeps no IP address.
        key: `REGISTRATIONS#${hour}#${digest(request.sourceIp).slice(0, 22)}`,
        limit: limits.perSource,
        ttlSeconds: 7200,
      },
      { key: `REGISTRATIONS#${hour}`, limit: limits.total, ttlSeconds: 7200 },
    ]);
    if (!admitted) {
      this.options.logger.warn('Client registration refused: hourly limit reached');
      return json(
        429,
        {
          error: 'temporarily_unavailable',
          error_description: 'Too many registrations. Try again later.',
        },
        { 'retry-after': String(3600 - Math.floor((Date.now() / 1000) % 3600)) },
      );
    }
    const client = await this.options.clients.register(parsed.data);
    this.options.logger.info('Client registered', { clientId: client.clientId });
    return json(201, {
      client_id: client.clientId,
      client_id_issued_at: client.issuedAt,
      redirect_uris: client.redirectUris,
      ...(client.clientName ? { client_name: client.clientName } : {}),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  }
}
