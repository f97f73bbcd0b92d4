/** The error codes of RFC 6749 (5.2, 4.1.2.1), RFC 7591 (3.2.2) and RFC 8707 (2). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'temporarily_unavailable'
  | 'server_error';

/**
 * An OAuth error the caller may see: the RFC's code and a generic description that names no
 * other client, user or tenant. What went wrong in detail goes to the log (`detail`).
 */
export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    // invalid_client is a 400 too: a 401 would need WWW-Authenticate, which API Gateway REST
    // renames on a Lambda proxy response (x-amzn-Remapped-WWW-Authenticate).
    readonly status = code === 'server_error' ? 500 : 400,
    readonly detail?: string,
  ) {
    super(detail ?? description);
    this.name = 'OAuthError';
  }
}

/** A refusal the client may try again after `retryAfterSeconds` (a 429 with Retry-After). */
export class OAuthRetryLater extends OAuthError {
  constructor(
    description: string,
    readonly retryAfterSeconds: number,
  ) {
    super('invalid_client', description, 429, 'failure limit reached');
  }
}
