import {
  type AuthInfo,
  createMcpHandler,
  isLegacyRequest,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';

export type ServerFactory = (authInfo: AuthInfo | undefined) => McpServer | Promise<McpServer>;

export interface McpEndpointOptions {
  /** Bodies larger than this are answered 413 before anything is parsed. */
  readonly maxRequestBodySize: number;
  readonly onerror?: (error: Error) => void;
}

/**
 * One MCP endpoint for both protocol eras, stateless and with plain JSON responses (API
 * Gateway buffers Lambda responses, so streaming buys nothing):
 *
 * - 2026-07-28 traffic goes to the SDK's `createMcpHandler` in JSON mode;
 * - 2025-era traffic (`initialize`, then requests without the `_meta` envelope) is served by a
 *   fresh stateless Streamable HTTP transport per request with JSON responses enabled. The
 *   SDK's built-in stateless fallback would answer the same requests as SSE frames.
 *
 * Both legs build their server from the same factory, so the two eras cannot drift apart.
 */
export function createMcpEndpoint(factory: ServerFactory, options: McpEndpointOptions) {
  // One handler per warm environment serves every tenant, so its change-event bus is shared.
  // That is safe only because the servers advertise no listChanged/subscribe capability and
  // nothing publishes on the bus (see buildMcpServer): keep it that way, or give each tenant
  // its own bus.
  const modern = createMcpHandler(({ authInfo }) => factory(authInfo), {
    responseMode: 'json',
    legacy: 'reject',
    maxRequestBodySize: options.maxRequestBodySize,
    onerror: options.onerror,
  });

  async function serveLegacy(
    request: Request,
    authInfo: AuthInfo,
    parsedBody: Record<string, unknown>,
  ): Promise<Response> {
    const server = await factory(authInfo);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    // At the deadline the exchange is closed, which aborts the handler's signal.
    const close = () => void server.close().catch(() => {});
    request.signal.addEventListener('abort', close, { once: true });
    try {
      return await transport.handleRequest(request, { authInfo, parsedBody });
    } finally {
      request.signal.removeEventListener('abort', close);
      await server.close();
    }
  }

  /** Serves one request whose body the caller has already parsed (and never reads again). */
  return async function fetch(
    request: Request,
    authInfo: AuthInfo,
    parsedBody: Record<string, unknown>,
  ): Promise<Response> {
    const legacy = await isLegacyRequest(request, parsedBody, {
      maxRequestBodySize: options.maxRequestBodySize,
    });
    return legacy
      ? serveLegacy(request, authInfo, parsedBody)
      : modern.fetch(request, { authInfo, parsedBody });
  };
}
