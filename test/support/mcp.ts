import { randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { inject } from 'vitest';
import type { TierName } from '../../lambda/shared/fair-use/tiers.js';
import type { Role, TenantStatus } from '../../lambda/shared/tenancy/tenant.js';
import * as seed from '../../local/seed.js';
import { localRegistry, uniqueTenantId } from './registry.js';

export const harness = () => inject('harness');
export const mcpUrl = () => `${harness().gatewayUrl}/mcp`;

export type Era = 'legacy' | 'modern';
export const ERAS: readonly Era[] = ['legacy', 'modern'];

export interface TestUser {
  readonly tenantId: string;
  readonly sub: string;
  readonly role: Role;
}

/**
 * A tenant made the way the product makes them (a Cognito user, the tenant, provisioning by
 * the real provisioner through the queue), with that user as its first member.
 */
export async function seedTenant(
  prefix: string,
  options: { tier?: TierName; status?: TenantStatus; role?: Role } = {},
): Promise<TestUser> {
  const tenantId = uniqueTenantId(prefix);
  const registry = localRegistry();
  const { sub } = await seed.seedTenant(registry, {
    tenantId,
    name: `${prefix} Inc.`,
    tier: options.tier ?? 'standard',
    adminEmail: `admin@${tenantId}.example`,
  });
  if (options.status && options.status !== 'ACTIVE') {
    await registry.transitionTenant(tenantId, { from: ['ACTIVE'], to: options.status });
  }
  const role = options.role ?? 'admin';
  if (role !== 'admin') await registry.setMemberRole(sub, tenantId, role);
  return { tenantId, sub, role };
}

export async function addMember(tenantId: string, role: Role): Promise<TestUser> {
  const sub = await seed.addMember(
    localRegistry(),
    tenantId,
    `${randomUUID()}@${tenantId}.example`,
    role,
  );
  return { tenantId, sub, role };
}

export interface MintOptions {
  clientId?: string;
  scope?: string;
  expiresIn?: number;
  notBeforeIn?: number;
  claims?: Record<string, unknown>;
  omitClaims?: string[];
}

/** Tokens as Cognito would issue them after sign-in (tenant claims from the real trigger). */
export async function mintTokens(
  sub: string,
  options: MintOptions = {},
): Promise<{ access_token: string; id_token: string }> {
  const response = await fetch(`${harness().issuerUrl}/local/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, ...options }),
  });
  if (!response.ok) throw new Error(`minting failed: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ access_token: string; id_token: string }>;
}

export async function accessToken(user: TestUser, options?: MintOptions): Promise<string> {
  return (await mintTokens(user.sub, options)).access_token;
}

/** An MCP SDK client connected to the local gateway, speaking the given protocol era. */
export async function connect(token: string, era: Era): Promise<Client> {
  const client = new Client(
    { name: 'integration-test', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl()), {
      authProvider: { token: async () => token },
    }),
  );
  return client;
}

/** A raw POST to the MCP endpoint, for requests no well-behaved client would send. */
export async function postMcp(
  body: unknown,
  headers: Record<string, string> = {},
  url = mcpUrl(),
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body:
      typeof body === 'string' || body instanceof Uint8Array
        ? (body as string | Uint8Array<ArrayBuffer>)
        : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

export interface ToolResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content?: Array<{ type: string; text: string }>;
}

/**
 * A raw `tools/call` as a 2025-era client sends it (the server is stateless: no initialize
 * needed), with the reply and, when the answer is a JSON-RPC result, that result.
 */
export async function callTool(
  token: string,
  name: string,
  args: Record<string, unknown> = {},
  options: { id?: number; url?: string } = {},
) {
  const reply = await postMcp(
    {
      jsonrpc: '2.0',
      id: options.id ?? 1,
      method: 'tools/call',
      params: { name, arguments: args },
    },
    { 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${token}` },
    options.url,
  );
  let result: ToolResult | undefined;
  try {
    result = (reply.json() as { result?: ToolResult }).result;
  } catch {
    result = undefined;
  }
  return { reply, result };
}

/** The structured output of a tool call, or the error text of a failed one. */
export function toolOutput(result: unknown): Record<string, unknown> {
  const r = result as {
    isError?: boolean;
    structuredContent?: Record<string, unknown>;
    content?: Array<{ text?: string }>;
  };
  if (r.isError) return { error: r.content?.[0]?.text };
  return r.structuredContent ?? {};
}
