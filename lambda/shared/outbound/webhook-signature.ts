import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a signed webhook delivery. */
export const SIGNATURE_HEADER = 'x-mcp-signature';
export const TIMESTAMP_HEADER = 'x-mcp-timestamp';

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with the tenant's secret. The
 * timestamp is in the signed text, so a receiver can refuse old deliveries (replays).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookSignatureHeaders {
  readonly signature?: string;
  readonly timestamp?: string;
}

/**
 * The HMAC half of what a receiver checks: the signature matches and the timestamp is recent.
 * A receiver checks the platform's credential too (webhook-credential.ts,
 * createDeliveryVerifier), which runs this.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookSignatureHeaders,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const timestamp = Number(headers.timestamp);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300))
    return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature ?? '');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
