/**
 * The tenant console's origin on 127.0.0.1, standing in for CloudFront in front of the console's
 * bucket (lib/constructs/console-site.ts): the static files of `console/` with the same security
 * headers, and `config.json` as the deploy uploads it. Prints one JSON line,
 * `{"service":"console","port":N,"url":ORIGIN}`, when it serves.
 *
 *   tsx local/console-server.ts --config FILE [--port 0]
 *
 * FILE holds the configuration without the redirect URI (the harness writes it once the gateway
 * is up; until then the console's `config.json` answers 503, as a deploy in progress would).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { CONSOLE_CONTENT_TYPES } from '../lambda/console-publisher/content-types.js';
import { type ConsoleConfig, consoleSecurityHeaders } from '../lib/console-policy.js';
import { PROJECT_ROOT } from './process.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, config: { type: 'string' } },
});
if (!values.config) {
  process.stderr.write('console: --config FILE is required\n');
  process.exit(2);
}
const configFile = values.config;
const ROOT = join(PROJECT_ROOT, 'console');

let origin = '';
const server = createServer(async (req, res) => {
  let config: ConsoleConfig | undefined;
  try {
    config = JSON.parse(await readFile(configFile, 'utf8')) as ConsoleConfig;
  } catch {
    config = undefined;
  }
  const headers = config ? consoleSecurityHeaders(new URL(config.mcpUrl).origin) : {};
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
    return;
  }
  const path = new URL(req.url ?? '/', origin).pathname;
  if (path === '/config.json') {
    if (!config) {
      res.writeHead(503, headers).end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      'content-type': CONSOLE_CONTENT_TYPES['.json'],
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify({ ...config, redirectUri: `${origin}/` }));
    return;
  }
  // S3 behind CloudFront: a key that does not exist is a 403 (origin access control), and no
  // path leaves the bucket.
  const file = normalize(join(ROOT, path === '/' ? 'index.html' : decodeURIComponent(path)));
  const type = CONSOLE_CONTENT_TYPES[extname(file)];
  if (!file.startsWith(ROOT + sep) || !type) {
    res.writeHead(403, headers).end();
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'content-type': type, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(403, headers).end();
  }
});
server.on('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(`console: cannot listen: ${error.message}\n`);
  process.exit(1);
});
await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
origin = `http://127.0.0.1:${port}`;
process.stdout.write(`${JSON.stringify({ service: 'console', port, url: origin })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
