import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * An https server on 127.0.0.1 with the certificate the stack's handlers trust, for what a
 * client publishes on the web: its metadata document (CIMD). Routes can be set per test.
 */
export async function startHttpsServer(): Promise<{
  url: (path: string) => string;
  route: (path: string, handler: Route) => void;
  requests: () => number;
  close: () => Promise<void>;
}> {
  const routes = new Map<string, Route>();
  let count = 0;
  const { key, cert } = inject('tls');
  const server: Server = createServer({ key, cert }, (req, res) => {
    count += 1;
    const handler = routes.get(new URL(req.url ?? '/', 'https://localhost').pathname);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `https://localhost:${port}${path}`,
    route: (path, handler) => routes.set(path, handler),
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON document. */
export const jsonDocument =
  (document: unknown, headers: Record<string, string> = {}): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(document));
  };
