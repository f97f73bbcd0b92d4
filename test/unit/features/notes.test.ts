import { afterEach, describe, expect, it } from 'vitest';
import type { TenantContext } from '../../../lambda/shared/tenancy/context.js';
import { call, featureClients } from '../../support/feature-client.js';
import { MemoryTenancy, memoryContext } from '../../support/memory-tenancy.js';

describe('the notes feature', () => {
  const clients = featureClients();
  afterEach(clients.closeAll);
  const connect = (
    tenancy: MemoryTenancy,
    tenantId: string,
    context: Partial<TenantContext> = {},
  ) => clients.connect(tenancy.scope(memoryContext(tenantId, context)));

  it('writes, reads, searches and deletes notes of the caller’s tenant only', async () => {
    const tenancy = new MemoryTenancy();
    const acme = await connect(tenancy, 'acme');
    const globex = await connect(tenancy, 'globex');
    const note = await call(acme, 'notes_create', {
      title: 'Q3 plan',
      body: 'launch the beta',
      tags: ['plan'],
    });

    expect(await call(acme, 'notes_get', { id: note.id })).toEqual(note);
    expect(await call(acme, 'notes_search', { query: 'BETA' })).toMatchObject({
      notes: [{ id: note.id }],
    });
    expect(await call(acme, 'notes_list')).toEqual({
      notes: [{ id: note.id, title: 'Q3 plan', tags: ['plan'], createdAt: note.createdAt }],
    });
    expect(await call(globex, 'notes_get', { id: note.id })).toEqual({ error: 'Note not found.' });
    expect(await call(globex, 'notes_delete', { id: note.id })).toEqual({
      error: 'Note not found.',
    });
    expect(await call(globex, 'notes_search', { query: 'beta' })).toEqual({ notes: [] });

    expect(await call(acme, 'notes_delete', { id: note.id })).toEqual({
      deleted: true,
      id: note.id,
    });
    expect(await call(acme, 'notes_get', { id: note.id })).toEqual({ error: 'Note not found.' });
  });

  it('serves the note resource and the draft prompt', async () => {
    const tenancy = new MemoryTenancy();
    const acme = await connect(tenancy, 'acme');
    const note = await call(acme, 'notes_create', { title: 'Hello', body: 'world' });

    const listed = await acme.listResources();
    expect(listed.resources).toEqual([
      expect.objectContaining({ uri: `note://${note.id}`, name: 'Hello' }),
    ]);
    const read = await acme.readResource({ uri: `note://${note.id}` });
    expect(read.contents).toEqual([expect.objectContaining({ text: '# Hello\n\nworld' })]);
    await expect(acme.readResource({ uri: 'note://missing' })).rejects.toThrow();
    const prompt = await acme.getPrompt({ name: 'draft_note', arguments: { topic: 'tides' } });
    expect(JSON.stringify(prompt.messages)).toContain('tides');
  });

  it('shows each tool only to the tiers and roles it names', async () => {
    const tenancy = new MemoryTenancy();
    const names = async (context: Partial<TenantContext>) =>
      (await (await connect(tenancy, 'acme', context)).listTools()).tools.map((tool) => tool.name);

    const freeMember = await names({ tier: 'free', role: 'member' });
    expect(freeMember).toContain('notes_list');
    expect(freeMember).not.toContain('notes_search');
    expect(freeMember).not.toContain('notes_delete');
    expect(await names({ tier: 'standard', role: 'admin' })).toEqual(
      expect.arrayContaining(['notes_search', 'notes_delete', 'notes_publish', 'integrations_set']),
    );
    // A hidden tool is not callable either.
    const member = await connect(tenancy, 'acme', { tier: 'free', role: 'member' });
    await expect(
      member.callTool({ name: 'notes_search', arguments: { query: 'x' } }),
    ).rejects.toThrow('Tool notes_search not found');
  });
});
