import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { NOTES } from '../../../lambda/mcp/features/notes/notes.js';
import { NotFoundError, ValidationError } from '../../../lambda/shared/platform/errors.js';
import {
  type CollectionDefinition,
  CrossTenantCursorError,
  defineCollection,
  encodeCursor,
  ItemIdSchema,
  TenantCollection,
} from '../../../lambda/shared/tenancy/collection.js';
import type { FieldCipher } from '../../../lambda/shared/tenancy/crypto.js';
import { MemoryKeys, MemoryTable } from '../../support/memory-tenancy.js';

const RecordSchema = z.object({
  id: ItemIdSchema,
  title: z.string(),
  body: z.string(),
  pin: z.string(),
});

function tenants() {
  const table = new MemoryTable();
  const keys = new MemoryKeys();
  let decrypts = 0;
  // Ids order by creation time to the millisecond: a clock that ticks between items.
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const counting = (cipher: FieldCipher): FieldCipher => ({
    tenantId: cipher.tenantId,
    encrypt: (text) => cipher.encrypt(text),
    decrypt: (message) => {
      decrypts += 1;
      return cipher.decrypt(message);
    },
  });
  const open = <I extends { id: string }, S extends keyof I>(
    tenantId: string,
    definition: CollectionDefinition<I, S>,
  ) =>
    new TenantCollection(
      table.partition(tenantId),
      counting(keys.cipher(tenantId)),
      definition,
      () => (clock += 1),
    );
  return { table, open, decrypts: () => decrypts };
}

const note = (collection: { newId(): string }, title = 'Plans') => ({
  id: collection.newId(),
  title,
  body: 'secret body',
  tags: ['q3'],
  createdBy: 'u1',
  createdAt: new Date().toISOString(),
});

describe('a tenant collection', () => {
  it('stores sensitive fields only sealed, and lists clear fields without decrypting', async () => {
    const { table, open, decrypts } = tenants();
    const notes = open('acme', NOTES);
    const created = await notes.create(note(notes));

    const [stored] = [...(table.items.get('acme')?.values() ?? [])];
    expect(JSON.stringify(stored)).not.toContain('secret body');
    expect(stored).toMatchObject({
      type: 'note',
      title: 'Plans',
      sealed: { body: expect.any(String) },
    });

    const page = await notes.list({ limit: 10 });
    expect(page.items).toEqual([expect.not.objectContaining({ body: expect.anything() })]);
    expect(decrypts()).toBe(0);
    expect(await notes.get(created.id)).toEqual(created);
  });

  it('seals a field as soon as it is added to the sensitive list, with nothing else changed', async () => {
    const { table, open } = tenants();
    const plain = defineCollection({
      name: 'REC',
      schema: RecordSchema,
      sensitive: ['body'],
      notFound: 'No.',
    });
    const more = defineCollection({
      name: 'REC',
      schema: RecordSchema,
      sensitive: ['body', 'pin'],
      notFound: 'No.',
    });
    const before = open('acme', plain);
    const old = await before.create({ id: before.newId(), title: 't', body: 'b', pin: '1234' });
    const after = open('acme', more);
    const fresh = await after.create({ id: after.newId(), title: 't', body: 'b', pin: '9876' });

    const raw = table.items.get('acme');
    expect(JSON.stringify(raw?.get(`REC#${fresh.id}`))).not.toContain('9876');
    // A record written before the change still reads, and no page shows the field any more.
    expect(await after.get(old.id)).toEqual(old);
    const page = await after.list({ limit: 10 });
    expect(page.items.map((item) => Object.keys(item).sort())).toEqual([
      ['id', 'title'],
      ['id', 'title'],
    ]);
  });

  it("answers another tenant's id exactly as a missing or malformed one", async () => {
    const { open } = tenants();
    const acme = open('acme', NOTES);
    const globex = open('globex', NOTES);
    const { id } = await acme.create(note(acme));

    for (const attempt of [id, acme.newId(), 'not-an-id', `../${id}`]) {
      await expect(globex.get(attempt)).rejects.toThrow(new NotFoundError('Note not found.'));
      await expect(globex.delete(attempt)).rejects.toThrow(new NotFoundError('Note not found.'));
    }
    await expect(globex.replace({ ...note(globex), id })).rejects.toThrow(NotFoundError);
    expect(await acme.get(id)).toMatchObject({ id, body: 'secret body' });
  });

  it("does not open another tenant's sealed field, even when the item is copied across", async () => {
    const { table, open } = tenants();
    const acme = open('acme', NOTES);
    const { id } = await acme.create(note(acme));
    const copied = structuredClone(table.items.get('acme')?.get(`NOTE#${id}`));
    await table.partition('globex').create(`NOTE#${id}`, copied ?? {});

    await expect(open('globex', NOTES).get(id)).rejects.toThrow('Could not decrypt');
  });

  it('binds cursors to their tenant and collection', async () => {
    const { open } = tenants();
    const acme = open('acme', NOTES);
    for (let i = 0; i < 3; i++) await acme.create(note(acme, `n${i}`));
    const first = await acme.list({ limit: 2 });
    expect(first.nextCursor).toBeDefined();
    const rest = await acme.list({ limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...rest.items].map((n) => n.title)).toEqual(['n2', 'n1', 'n0']);

    const globex = open('globex', NOTES);
    await expect(globex.list({ limit: 2, cursor: first.nextCursor })).rejects.toThrow(
      CrossTenantCursorError,
    );
    // Another tenant's cursor is an attempt even when it is for another collection.
    await expect(acme.list({ limit: 2, cursor: encodeCursor('globex', 'TASK#x') })).rejects.toThrow(
      CrossTenantCursorError,
    );
    const other = encodeCursor('acme', 'TASK#x');
    for (const cursor of ['%%%', 'e30', other]) {
      const refusal = acme.list({ limit: 2, cursor });
      await expect(refusal).rejects.toThrow(ValidationError);
      await expect(refusal).rejects.not.toThrow(CrossTenantCursorError);
    }
  });

  it('finds through sealed fields, reading at most its budget per call', async () => {
    const { open, decrypts } = tenants();
    const notes = open('acme', NOTES);
    for (let i = 0; i < 7; i++)
      await notes.create({ ...note(notes, `n${i}`), body: i % 3 ? 'x' : 'needle' });

    const first = await notes.find((n) => n.body === 'needle', { limit: 10, readBudget: 4 });
    expect(first.items.map((n) => n.title)).toEqual(['n6', 'n3']);
    expect(decrypts()).toBe(4);
    const second = await notes.find((n) => n.body === 'needle', {
      limit: 10,
      readBudget: 4,
      cursor: first.nextCursor,
    });
    expect(second.items.map((n) => n.title)).toEqual(['n0']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('keeps an existing item when an id is created twice, and refuses invalid records', async () => {
    const { open } = tenants();
    const notes = open('acme', NOTES);
    const created = await notes.create(note(notes));
    await expect(notes.create({ ...created, title: 'overwritten' })).rejects.toThrow(
      'already exists',
    );
    expect((await notes.get(created.id)).title).toBe('Plans');
    await expect(notes.create({ ...note(notes), createdAt: 'yesterday' })).rejects.toThrow();
  });

  it('never puts a key the summary does not name in a page, even for a loose schema', async () => {
    const { open } = tenants();
    const loose = defineCollection({
      name: 'LOOSE',
      schema: z.looseObject({ id: ItemIdSchema, title: z.string(), body: z.string() }),
      sensitive: ['body'],
      notFound: 'No.',
    });
    const records = open('acme', loose);
    await records.create({ id: records.newId(), title: 't', body: 'secret' });
    const [item] = (await records.list({ limit: 5 })).items;
    expect(Object.keys(item ?? {}).sort()).toEqual(['id', 'title']);
  });

  it('leaves an absent optional sensitive field absent', async () => {
    const { open } = tenants();
    const optional = defineCollection({
      name: 'OPT',
      schema: z.object({ id: ItemIdSchema, note: z.string().optional() }),
      sensitive: ['note'],
      notFound: 'No.',
    });
    const records = open('acme', optional);
    const { id } = await records.create({ id: records.newId() });
    expect(await records.get(id)).toEqual({ id });
  });

  it('refuses collection names and sensitive lists that would break the key scheme', () => {
    expect(() =>
      defineCollection({ name: 'note#', schema: RecordSchema, sensitive: [], notFound: '' }),
    ).toThrow();
    expect(() =>
      defineCollection({ name: 'REC', schema: RecordSchema, sensitive: ['id'], notFound: '' }),
    ).toThrow();
    expect(() =>
      defineCollection({ name: 'SECRET', schema: RecordSchema, sensitive: [], notFound: '' }),
    ).toThrow(/taken/);
    for (const field of ['tenantId', 'sk', 'type', 'sealed']) {
      const schema = RecordSchema.extend({ [field]: z.string() }) as typeof RecordSchema;
      expect(() => defineCollection({ name: 'REC', schema, sensitive: [], notFound: '' })).toThrow(
        field,
      );
    }
  });
});
