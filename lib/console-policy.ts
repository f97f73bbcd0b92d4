/**
 * What the tenant console is served with, in one place for the CDK app (CloudFront's response
 * headers policy, the uploaded `config.json`) and the local static server of `npm run dev`.
 * Plain values, no CDK import.
 */

/** The console's client id at the façade: a public client whose one redirect URI is the console. */
export const CONSOLE_CLIENT_ID = 'tenant-console';

/** What the console reads at start (`/config.json`): where to sign in and what to call. */
export interface ConsoleConfig {
  readonly mcpUrl: string;
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly scope: string;
}

/** The console's Content-Security-Policy: its own scripts and styles, and the API only. */
export function consoleContentSecurityPolicy(apiOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${apiOrigin}`,
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * The security headers CloudFront adds to every file of the console (its response headers
 * policy), as the local server sends them too.
 */
export function consoleSecurityHeaders(apiOrigin: string): Record<string, string> {
  return {
    'Content-Security-Policy': consoleContentSecurityPolicy(apiOrigin),
    'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}
