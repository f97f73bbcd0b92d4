import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessToken, addMember, callTool, seedTenant } from '../support/mcp.js';

/**
 * The property: whatever sequence of tool calls random users of random tenants make, no answer
 * carries another tenant's data, and each tenant's notes are exactly what a plain in-memory
 * model of that tenant's own operations says. Runs: PROPERTY_RUNS (npm test uses a few,
 * npm run test:security many more); a failure prints fast-check's seed and shrunk sequence.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 12);
const TENANTS = 2;

interface Tenant {
  tenantId: string;
  marker: string;
  tokens: { admin: string; member: string };
  /** The model: note id -> what the tenant saved. */
  notes: Map<string, { title: string; body: string }>;
}
const tenants: Tenant[] = [];
/** Every note id ever created, of any tenant: the ids an attacker would try. */
const knownIds: string[] = [];

type Role = 'admin' | 'member';
type Command =
  | { kind: 'create'; tenant: number; role: Role; text: string }
  | { kind: 'get'; tenant: number; role: Role; pick: number }
  | { kind: 'delete'; tenant: number; role: Role; pick: number }
  | { kind: 'list'; tenant: number; role: Role };

const tenantArb = fc.integer({ min: 0, max: TENANTS - 1 });
const roleArb = fc.constantFrom<Role>('admin', 'member');
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    tenant: tenantArb,
    role: roleArb,
    text: fc.string({ maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant('get' as const),
    tenant: tenantArb,
    role: roleArb,
    pick: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    tenant: tenantArb,
    role: roleArb,
    pick: fc.nat(),
  }),
  fc.record({ kind: fc.constant('list' as const), tenant: tenantArb, role: roleArb }),
);

/** A tool call; a legitimate throttle is not a failure of the property: wait as told, and retry. */
async function call(token: string, name: string, args: Record<string, unknown>) {
  for (let attempt = 0; ; attempt++) {
    const outcome = await callTool(token, name, args);
    if (outcome.reply.status !== 429 || attempt >= 5) return outcome;
    const wait = 1000 * Number(outcome.reply.headers.get('retry-after') ?? 1);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** No tenant's answer mentions another tenant's marker or id. */
function expectOnlyOwn(caller: Tenant, text: string) {
  for (const other of tenants) {
    if (other === caller) continue;
    expect(text).not.toContain(other.marker);
    expect(text).not.toContain(other.tenantId);
  }
}

async function listAll(tenant: Tenant) {
  const titles: string[] = [];
  let cursor: string | undefined;
  do {
    const { reply, result } = await call(tenant.tokens.member, 'notes_list', {
      limit: 50,
      ...(cursor ? { cursor } : {}),
    });
    expectOnlyOwn(tenant, reply.text);
    const page = result?.structuredContent as {
      notes: Array<{ id: string; title: string }>;
      nextCursor?: string;
    };
    titles.push(...page.notes.map((n) => `${n.id} ${n.title}`));
    cursor = page.nextCursor;
  } while (cursor);
  return titles.sort();
}

async function run(command: Command) {
  const tenant = tenants[command.tenant] as Tenant;
  const token = tenant.tokens[command.role];
  switch (command.kind) {
    case 'create': {
      const title = `${tenant.marker} ${command.text}`.trim();
      const body = `${tenant.marker} body ${command.text}`;
      const { reply, result } = await call(token, 'notes_create', { title, body });
      expectOnlyOwn(tenant, reply.text);
      const id = String(result?.structuredContent?.id);
      tenant.notes.set(id, { title, body });
      knownIds.push(id);
      return;
    }
    case 'get': {
      if (knownIds.length === 0) return;
      const id = knownIds[command.pick % knownIds.length] as string;
      const { reply, result } = await call(token, 'notes_get', { id });
      expectOnlyOwn(tenant, reply.text);
      const expected = tenant.notes.get(id);
      if (expected) expect(result?.structuredContent).toMatchObject({ id, ...expected });
      else expect(result?.isError).toBe(true);
      return;
    }
    case 'delete': {
      if (knownIds.length === 0) return;
      const id = knownIds[command.pick % knownIds.length] as string;
      const { reply, result } = await call(token, 'notes_delete', { id });
      expectOnlyOwn(tenant, reply.text);
      if (command.role === 'admin' && tenant.notes.has(id)) {
        expect(result?.structuredContent).toEqual({ deleted: true, id });
        tenant.notes.delete(id);
      } else {
        // A member cannot delete (the tool is not even listed for them: a JSON-RPC error), and
        // nobody deletes what is not their tenant's (a tool error).
        const refused = result?.isError === true || 'error' in (reply.json() as object);
        expect(refused).toBe(true);
      }
      return;
    }
    case 'list': {
      const listed = await listAll(tenant);
      expect(listed).toEqual([...tenant.notes].map(([id, n]) => `${id} ${n.title}`).sort());
    }
  }
}

beforeAll(async () => {
  for (let i = 0; i < TENANTS; i++) {
    const admin = await seedTenant(`prop${i}`, { tier: 'premium' });
    const member = await addMember(admin.tenantId, 'member');
    tenants.push({
      tenantId: admin.tenantId,
      marker: `marker-${i}-${randomUUID()}`,
      tokens: { admin: await accessToken(admin), member: await accessToken(member) },
      notes: new Map(),
    });
  }
}, 60_000);

describe('property: random calls by random tenants and users', () => {
  it(`never leak across tenants, and keep each tenant's notes equal to its model (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 10 }), async (commands) => {
        for (const command of commands) await run(command);
        // After every sequence, each tenant's stored notes are exactly its model.
        for (const tenant of tenants) {
          expect(await listAll(tenant)).toEqual(
            [...tenant.notes].map(([id, n]) => `${id} ${n.title}`).sort(),
          );
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
