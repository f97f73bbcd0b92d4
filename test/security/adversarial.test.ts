import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { FEATURES } from '../../lambda/mcp/features/index.js';
import { createDocumentClient } from '../../lambda/shared/platform/aws-clients.js';
import { TENANT_DATA_TABLE } from '../../lambda/shared/platform/table-schema.js';
import { encodeCursor } from '../../lambda/shared/tenancy/collection.js';
import {
  hs256WithPublicKey,
  signedWithAnotherKey,
  tampered,
  unsigned,
} from '../support/forgery.js';
import {
  accessToken,
  ERAS,
  type Era,
  harness,
  mintTokens,
  postMcp,
  seedTenant,
  type TestUser,
} from '../support/mcp.js';
import { localRegistry } from '../support/registry.js';

/**
 * The adversarial suite: one named attack per case, each made by (or on behalf of) the
 * attacker tenant against the victim tenant, with the refusal it must get. After every case the
 * response is searched for the victim's data, seeded with unique markers, and for the victim's
 * tenant id: neither may appear anywhere, whatever the status. Run it after changing a tool:
 * `npm run test:security`.
 */
type Reply = Awaited<ReturnType<typeof postMcp>>;

const VICTIM_MARKER = `victim-marker-${randomUUID()}`;
const ATTACKER_MARKER = `attacker-marker-${randomUUID()}`;
const LEGACY = { 'mcp-protocol-version': '2025-06-18' };

let victim: TestUser;
let attacker: TestUser;
let suspended: TestUser;
let deleted: TestUser;
let attackerToken: string;
let suspendedToken: string;
let deletedToken: string;
let victimToken: string;
const victimNotes: Array<{ id: string; title: string; body: string }> = [];
let victimCursor: string;
/** Every record of the victim, of every feature's collection: its sort key and id. */
let victimRecords: Array<{ sortKey: string; id: string }> = [];
const replies: Reply[] = [];

const rpc = (method: string, params: Record<string, unknown> = {}, id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method,
  params,
});
const tool = (name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) =>
  rpc('tools/call', { name, arguments: args, ...(meta ? { _meta: meta } : {}) });
/** The protocol era the attacks speak: each runs once per era (the SDK serves them apart). */
let era: Era = 'legacy';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'attacker', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
/** A request in the current era: 2025 headers, or the 2026-07-28 headers and `_meta` envelope. */
function inEra(body: unknown): { body: unknown; headers: Record<string, string> } {
  const message = body as { method?: unknown; params?: Record<string, unknown> };
  if (era === 'legacy' || typeof body !== 'object' || Array.isArray(body) || !message.method) {
    return { body, headers: era === 'legacy' ? LEGACY : { 'mcp-protocol-version': '2026-07-28' } };
  }
  const params = message.params ?? {};
  return {
    body: {
      ...message,
      params: { ...params, _meta: { ...ENVELOPE, ...(params._meta as object) } },
    },
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': String(message.method),
      ...(typeof params.name === 'string' ? { 'mcp-name': params.name } : {}),
      ...(typeof params.uri === 'string' ? { 'mcp-name': params.uri } : {}),
    },
  };
}
const send = async (body: unknown, headers: Record<string, string> = {}, token = attackerToken) => {
  const request = inEra(body);
  const reply = await postMcp(request.body, {
    ...request.headers,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  });
  replies.push(reply);
  return reply;
};
const result = (reply: Reply) =>
  (reply.json() as { result?: { isError?: boolean; structuredContent?: Record<string, unknown> } })
    .result;
/** The attacker's own notes came back, and only those. */
const ownNotesOnly = (reply: Reply) => {
  expect(reply.status).toBe(200);
  const notes = (result(reply)?.structuredContent?.notes ?? []) as Array<{ title: string }>;
  expect(notes.length).toBeGreaterThan(0);
  for (const note of notes) expect(note.title).toContain(ATTACKER_MARKER);
};
const jsonRpcError = (reply: Reply, status: number) => {
  expect(reply.status).toBe(status);
  expect((reply.json() as { error?: unknown }).error).toBeDefined();
};
const toolError = (reply: Reply) => {
  expect(reply.status).toBe(200);
  expect(result(reply)?.isError).toBe(true);
};
const gateway = (status: number) => (reply: Reply) => expect(reply.status).toBe(status);

async function createNote(token: string, title: string, body: string) {
  const reply = await postMcp(tool('notes_create', { title, body, tags: ['seeded'] }), {
    ...LEGACY,
    authorization: `Bearer ${token}`,
  });
  const id = result(reply)?.structuredContent?.id;
  if (typeof id !== 'string') throw new Error(`seeding a note failed: ${reply.text.slice(0, 200)}`);
  return id;
}

beforeAll(async () => {
  [victim, attacker, suspended, deleted] = await Promise.all([
    seedTenant('victim'),
    // On the top tier, so its usage plan's throttle (a per-tenant rate, 25 a second on
    // standard) never answers the attacks before the tenant check does when the suite runs fast.
    seedTenant('attacker', { tier: 'premium' }),
    seedTenant('suspended'),
    seedTenant('deleted'),
  ]);
  victimToken = await accessToken(victim);
  attackerToken = await accessToken(attacker);
  suspendedToken = await accessToken(suspended);
  deletedToken = await accessToken(deleted);
  const registry = localRegistry();
  await registry.transitionTenant(suspended.tenantId, { from: ['ACTIVE'], to: 'SUSPENDED' });
  await registry.transitionTenant(deleted.tenantId, { from: ['ACTIVE'], to: 'DELETED' });
  for (let i = 0; i < 3; i++) {
    const title = `${VICTIM_MARKER} title ${i}`;
    const body = `${VICTIM_MARKER} body ${i}`;
    victimNotes.push({ id: await createNote(victimToken, title, body), title, body });
    await createNote(attackerToken, `${ATTACKER_MARKER} title ${i}`, `${ATTACKER_MARKER} body`);
  }
  const page = await postMcp(tool('notes_list', { limit: 1 }), {
    ...LEGACY,
    authorization: `Bearer ${victimToken}`,
  });
  victimCursor = String(result(page)?.structuredContent?.nextCursor);
  // A record of each feature that keeps records: the attacks below aim at all of them.
  await seed(victimToken, 'tasks_create', {
    title: `${VICTIM_MARKER} task`,
    details: VICTIM_MARKER,
  });
  victimRecords = await recordsOf(victim.tenantId);
});

afterAll(async () => {
  // Nothing of the victim's was changed by any attack.
  const listed = await postMcp(tool('notes_list', { limit: 50 }), {
    ...LEGACY,
    authorization: `Bearer ${victimToken}`,
  });
  const titles = ((result(listed)?.structuredContent?.notes ?? []) as Array<{ title: string }>)
    .map((n) => n.title)
    .sort();
  expect(titles).toEqual(victimNotes.map((n) => n.title).sort());
  // Nor any record of any feature.
  expect(await recordsOf(victim.tenantId)).toEqual(victimRecords);
});

/** A tool call the seeding needs to succeed. */
async function seed(token: string, name: string, args: Record<string, unknown>) {
  const reply = await postMcp(tool(name, args), { ...LEGACY, authorization: `Bearer ${token}` });
  if (!result(reply)?.structuredContent)
    throw new Error(`seeding failed: ${reply.text.slice(0, 200)}`);
}

/** The tenant's collection records as stored (read with the operator's credentials). */
async function recordsOf(tenantId: string) {
  const { Items = [] } = await createDocumentClient().send(
    new QueryCommand({
      TableName: process.env.DATA_TABLE_NAME,
      KeyConditionExpression: '#pk = :tenant',
      ExpressionAttributeNames: { '#pk': TENANT_DATA_TABLE.partitionKey },
      ExpressionAttributeValues: { ':tenant': tenantId },
    }),
  );
  return Items.filter((item) => typeof item.id === 'string' && typeof item.type === 'string')
    .map((item) => ({
      sortKey: String(item[TENANT_DATA_TABLE.sortKey]),
      id: String(item.id),
      stored: JSON.stringify(item),
    }))
    .sort((a, b) => a.sortKey.localeCompare(b.sortKey));
}

/**
 * The tools of every feature that take a record id or a cursor: each is attacked with every
 * record of the victim's (of any feature) and a cursor into each of the victim's collections,
 * so a new feature is attacked without a line written for it.
 */
const allTools = FEATURES.flatMap((feature) => feature.tools);
const takes = (key: string) =>
  allTools.filter((t) => key in t.inputSchema.shape).map((t) => t.name);
const ID_TOOLS = takes('id');
const CURSOR_TOOLS = takes('cursor');
/**
 * Valid arguments besides the one under attack, so the call gets past input validation and
 * reaches the tenant check: each required field gets the first of a few candidate values its
 * schema accepts, and a field none fits stops the suite (add a candidate) rather than letting
 * an attack fail on validation.
 */
const CANDIDATES: unknown[] = ['x', 'attack@example.com', 1, true, [], {}];
const fill = (name: string, except: string) => {
  const shape = allTools.find((t) => t.name === name)?.inputSchema.shape ?? {};
  const args: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape) as Array<[string, z.ZodType]>) {
    if (key === except || schema.safeParse(undefined).success) continue;
    const value = CANDIDATES.find((candidate) => schema.safeParse(candidate).success);
    if (value === undefined) throw new Error(`no candidate value for ${name}.${key}`);
    args[key] = value;
  }
  return args;
};
/** The generic text of a refused tool call: a tenant check's answer, not a validation error. */
const refusalText = (reply: Reply) => {
  toolError(reply);
  const text = String(
    (reply.json() as { result?: { content?: Array<{ text?: string }> } }).result?.content?.[0]
      ?.text,
  );
  expect(text).not.toMatch(/validation|invalid arguments/i);
  return text;
};
/** The collections the features declare: the victim must have a record in each. */
const COLLECTIONS = FEATURES.flatMap((feature) => feature.collections ?? []).map((c) => c.prefix);

const ATTACKS: Array<[string, () => Promise<Reply>, (reply: Reply) => void]> = [
  // Token forgery: the attacker's token turned into the victim's.
  [
    'forged payload naming the victim tenant',
    async () =>
      send(tool('notes_list'), {}, tampered(attackerToken, { 'custom:tenantId': victim.tenantId })),
    gateway(401),
  ],
  [
    'unsigned token (alg: none)',
    async () => send(tool('notes_list'), {}, unsigned(attackerToken)),
    gateway(401),
  ],
  [
    "another key under the issuer's key id",
    async () => send(tool('notes_list'), {}, await signedWithAnotherKey(attackerToken)),
    gateway(401),
  ],
  [
    "HS256 keyed with the issuer's public key",
    async () =>
      send(tool('notes_list'), {}, await hs256WithPublicKey(attackerToken, harness().issuerUrl)),
    gateway(401),
  ],
  [
    'unknown key id',
    async () =>
      send(tool('notes_list'), {}, await signedWithAnotherKey(attackerToken, 'attacker-kid')),
    gateway(401),
  ],
  [
    'expired token',
    async () => send(tool('notes_list'), {}, await accessToken(attacker, { expiresIn: -120 })),
    gateway(401),
  ],
  [
    'token not valid yet',
    async () => send(tool('notes_list'), {}, await accessToken(attacker, { notBeforeIn: 600 })),
    gateway(401),
  ],
  [
    'token from another issuer',
    async () =>
      send(
        tool('notes_list'),
        {},
        await accessToken(attacker, { claims: { iss: 'https://issuer.example.com' } }),
      ),
    gateway(401),
  ],
  [
    'token for another client',
    async () =>
      send(tool('notes_list'), {}, await accessToken(attacker, { clientId: 'another-client' })),
    gateway(401),
  ],
  [
    'token without the MCP scope',
    async () =>
      send(tool('notes_list'), {}, await accessToken(attacker, { scope: 'openid email' })),
    gateway(401),
  ],
  [
    'ID token as bearer',
    async () => send(tool('notes_list'), {}, (await mintTokens(attacker.sub)).id_token),
    gateway(401),
  ],
  [
    'token without a tenant claim',
    async () =>
      send(
        tool('notes_list'),
        {},
        await accessToken(attacker, { omitClaims: ['custom:tenantId'] }),
      ),
    gateway(401),
  ],
  [
    "validly signed token naming the victim tenant (not the attacker's)",
    async () =>
      send(
        tool('notes_list'),
        {},
        await accessToken(attacker, { claims: { 'custom:tenantId': victim.tenantId } }),
      ),
    gateway(403),
  ],
  [
    'extra tenant claims naming the victim',
    async () =>
      send(
        tool('notes_list'),
        {},
        await accessToken(attacker, {
          claims: {
            tenant_id: victim.tenantId,
            'custom:tenant': victim.tenantId,
            tenantId: victim.tenantId,
          },
        }),
      ),
    ownNotesOnly,
  ],
  [
    'suspended tenant (token minted before the suspension)',
    async () => send(tool('notes_list'), {}, suspendedToken),
    gateway(403),
  ],
  [
    'deleted tenant (token minted before the deletion)',
    async () => send(tool('notes_list'), {}, deletedToken),
    gateway(403),
  ],
  // Header spoofing: the attacker's valid token, headers naming the victim.
  ...['X-Tenant-Id', 'x-tenant-id', 'X-TENANT-ID', 'X-Amz-Tenant-Id', 'x-amz-tenant-id'].map(
    (header) =>
      [
        `${header} header naming the victim`,
        async () => send(tool('notes_list'), { [header]: victim.tenantId }),
        ownNotesOnly,
      ] as [string, () => Promise<Reply>, (reply: Reply) => void],
  ),
  // Smuggling the victim into the request.
  [
    'tenant id in tool arguments',
    async () => send(tool('notes_list', { tenantId: victim.tenantId, tenant: victim.tenantId })),
    ownNotesOnly,
  ],
  [
    'tenant id in _meta',
    async () =>
      send(
        tool('notes_list', {}, { tenantId: victim.tenantId, 'custom:tenantId': victim.tenantId }),
      ),
    ownNotesOnly,
  ],
  ["victim's cursor", async () => send(tool('notes_list', { cursor: victimCursor })), toolError],
  [
    "victim's note id (read)",
    async () => send(tool('notes_get', { id: victimNotes[0]?.id })),
    toolError,
  ],
  [
    "victim's note id (delete, as an admin)",
    async () => send(tool('notes_delete', { id: victimNotes[1]?.id })),
    toolError,
  ],
  [
    "victim's note id (publish)",
    async () => send(tool('notes_publish', { id: victimNotes[2]?.id })),
    toolError,
  ],
  [
    "victim's resource URI",
    async () => send(rpc('resources/read', { uri: `note://${victimNotes[0]?.id}` })),
    (reply) => jsonRpcError(reply, 200),
  ],
  [
    "victim's usage",
    async () => send(tool('usage_report', { tenantId: victim.tenantId })),
    (reply) => {
      expect(reply.status).toBe(200);
      expect(JSON.stringify(result(reply))).not.toContain(victim.tenantId);
    },
  ],
  // Malformed and hostile payloads.
  [
    'oversized body (300 KiB)',
    async () => send(tool('notes_create', { title: 't', body: 'x'.repeat(300 * 1024) })),
    gateway(413),
  ],
  [
    'deeply nested arguments (depth 2,000)',
    async () =>
      send(
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notes_list","arguments":{"a":${'['.repeat(2000)}${']'.repeat(2000)}}}}`,
      ),
    (reply) => expect(reply.status).toBeLessThan(500),
  ],
  [
    'JSON-RPC batch',
    async () => send([tool('notes_list'), tool('whoami')]),
    (reply) => jsonRpcError(reply, 400),
  ],
  [
    'malformed JSON',
    async () => send('{"jsonrpc":"2.0","id":1,"method":'),
    (reply) => expect(reply.status).toBe(400),
  ],
  [
    'unknown method',
    async () => send(rpc('tenants/list')),
    (reply) => {
      expect(reply.status).toBeLessThan(500);
      expect((reply.json() as { error?: { code: number } }).error?.code).toBe(-32601);
    },
  ],
  [
    'protocol version header that contradicts the request',
    async () =>
      send(
        tool(
          'notes_list',
          {},
          {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'x', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        ),
        { 'mcp-protocol-version': '2025-03-26' },
      ),
    (reply) => expect(reply.status).toBe(400),
  ],
  [
    'foreign browser Origin',
    async () => send(tool('notes_list'), { origin: 'https://evil.example' }),
    gateway(403),
  ],
];

describe.each(ERAS)(
  'adversarial suite (%s era): an attacker tenant against a victim tenant',
  (each) => {
    beforeAll(() => {
      era = each;
      replies.length = 0;
    });

    it.each(ATTACKS)('%s', async (_name, attack, expectRefusal) => {
      const reply = await attack();
      expectRefusal(reply);
      // Whatever the answer, nothing of the victim's is in it, and no stack trace.
      expect(reply.text).not.toContain(VICTIM_MARKER);
      expect(reply.text).not.toContain(victim.tenantId);
      expect(reply.text).not.toMatch(/\bat .+:\d+:\d+/);
    });

    it('aims at a record of every collection the features keep, with every tool that takes one', () => {
      // A feature that declares a collection the victim has no record of: seed one above.
      for (const prefix of COLLECTIONS) {
        expect(
          victimRecords.some((r) => r.sortKey.startsWith(prefix)),
          prefix,
        ).toBe(true);
      }
      expect(ID_TOOLS).toEqual(expect.arrayContaining(['notes_get', 'tasks_complete']));
      expect(CURSOR_TOOLS).toEqual(expect.arrayContaining(['notes_list', 'tasks_list']));
    });

    it.each(ID_TOOLS)("every record id of the victim's, given to %s", async (name) => {
      for (const record of victimRecords) {
        const reply = await send(tool(name, { ...fill(name, 'id'), id: record.id }));
        refusalText(reply);
        expect(reply.text).not.toContain(VICTIM_MARKER);
        expect(reply.text).not.toContain(victim.tenantId);
      }
    });

    it.each(CURSOR_TOOLS)(
      "a cursor into each of the victim's collections, given to %s",
      async (name) => {
        for (const record of victimRecords) {
          const cursor = encodeCursor(victim.tenantId, record.sortKey);
          const reply = await send(tool(name, { ...fill(name, 'cursor'), cursor }));
          expect(refusalText(reply)).toBe('Invalid cursor.');
          expect(result(reply)?.structuredContent).toBeUndefined();
          expect(reply.text).not.toContain(VICTIM_MARKER);
        }
      },
    );

    it("sent every attack, and no reply anywhere carried the victim's data", () => {
      expect(replies.length).toBeGreaterThanOrEqual(ATTACKS.length);
      for (const reply of replies) expect(reply.text).not.toContain(VICTIM_MARKER);
    });
  },
);
