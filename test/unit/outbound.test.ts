import { describe, expect, it } from 'vitest';
import { checkDestination, OutboundRefused } from '../../lambda/shared/outbound/outbound.js';
import { signWebhook, verifyWebhook } from '../../lambda/shared/outbound/webhook-signature.js';

const production = { allowLoopback: false };
const development = { allowLoopback: true };
const refused = (url: string, policy = production) =>
  expect(checkDestination(new URL(url), policy)).rejects.toBeInstanceOf(OutboundRefused);

describe('outbound policy for tenant-chosen URLs', () => {
  it.each([
    ['a file: URL', 'file:///etc/passwd'],
    ['plain http', 'http://example.com/hook'],
    ['a private address', 'https://10.0.0.1/hook'],
    ['another private range', 'https://192.168.1.20/hook'],
    ['the instance metadata address', 'https://169.254.169.254/latest/meta-data/'],
    ['loopback', 'https://127.0.0.1/hook'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['an IPv4-mapped IPv6 private address', 'https://[::ffff:10.0.0.1]/hook'],
    ['an IPv6 unique-local address', 'https://[fd00::1]/hook'],
    ['a name that resolves to loopback', 'https://localhost/hook'],
    ['credentials in the URL', 'https://user:pass@93.184.215.14/hook'],
  ])('refuses %s', async (_, url) => {
    await refused(url);
  });

  it('refuses a name that resolves to loopback because of where it leads', async () => {
    await expect(checkDestination(new URL('https://localhost/hook'), production)).rejects.toThrow(
      /private, loopback or link-local/,
    );
  });

  it('allows a public address, and names the address to connect to', async () => {
    await expect(
      checkDestination(new URL('https://93.184.215.14/hook'), production),
    ).resolves.toEqual([{ address: '93.184.215.14', family: 4 }]);
  });

  it('allows loopback over http only under the development setting, never private networks', async () => {
    await expect(
      checkDestination(new URL('http://127.0.0.1:8080/hook'), development),
    ).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    await refused('http://10.0.0.1/hook', development);
    await refused('http://169.254.169.254/', development);
  });
});

describe('webhook signatures', () => {
  const body = JSON.stringify({ event: 'note.published' });

  it('verifies with the secret that signed and with no other', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook('tenant-a-secret-0123456789', timestamp, body);

    expect(
      verifyWebhook(
        'tenant-a-secret-0123456789',
        { signature, timestamp: String(timestamp) },
        body,
      ),
    ).toBe(true);
    expect(
      verifyWebhook(
        'tenant-b-secret-0123456789',
        { signature, timestamp: String(timestamp) },
        body,
      ),
    ).toBe(false);
    expect(
      verifyWebhook(
        'tenant-a-secret-0123456789',
        { signature, timestamp: String(timestamp) },
        `${body} `,
      ),
    ).toBe(false);
  });

  it('refuses an old delivery (replay)', () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    const signature = signWebhook('tenant-a-secret-0123456789', old, body);

    expect(
      verifyWebhook('tenant-a-secret-0123456789', { signature, timestamp: String(old) }, body),
    ).toBe(false);
  });
});
