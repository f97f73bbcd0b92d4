import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessToken,
  connect,
  ERAS,
  seedTenant,
  type TestUser,
  toolOutput,
} from '../support/mcp.js';

/**
 * Two tenants use the server at once through the SDK's own client, in both protocol eras.
 * Every note body carries its tenant's marker, so any leak shows up as a marker in the wrong
 * place.
 */
describe.each(ERAS)('tenant notes over MCP (%s era)', (era) => {
  let acme: TestUser;
  let globex: TestUser;
  let acmeClient: Client;
  let globexClient: Client;
  const acmeNotes: string[] = [];
  const globexNotes: string[] = [];

  const create = async (client: Client, title: string, body: string) => {
    const output = toolOutput(
      await client.callTool({ name: 'notes_create', arguments: { title, body, tags: ['shared'] } }),
    );
    return String(output.id);
  };

  beforeAll(async () => {
    acme = await seedTenant('acme');
    globex = await seedTenant('globex');
    acmeClient = await connect(await accessToken(acme), era);
    globexClient = await connect(await accessToken(globex), era);
    for (let i = 0; i < 3; i++) {
      acmeNotes.push(await create(acmeClient, `Acme plan ${i}`, `roadmap ACME-MARKER-${i}`));
      globexNotes.push(
        await create(globexClient, `Globex plan ${i}`, `roadmap GLOBEX-MARKER-${i}`),
      );
    }
  });
  afterAll(async () => {
    await acmeClient?.close();
    await globexClient?.close();
  });

  it('tells each caller which tenant, tier and role it acts for', async () => {
    const me = toolOutput(await acmeClient.callTool({ name: 'whoami', arguments: {} }));

    expect(me).toMatchObject({
      tenantId: acme.tenantId,
      tier: 'standard',
      role: 'admin',
      userId: acme.sub,
    });
  });

  it("lists only the caller's own notes, newest first", async () => {
    const acmeList = toolOutput(await acmeClient.callTool({ name: 'notes_list', arguments: {} }));
    const globexList = toolOutput(
      await globexClient.callTool({ name: 'notes_list', arguments: {} }),
    );

    expect((acmeList.notes as Array<{ id: string }>).map((n) => n.id)).toEqual(
      [...acmeNotes].reverse(),
    );
    expect((globexList.notes as Array<{ id: string }>).map((n) => n.id)).toEqual(
      [...globexNotes].reverse(),
    );
  });

  it('reads its own note by id', async () => {
    const note = toolOutput(
      await acmeClient.callTool({ name: 'notes_get', arguments: { id: acmeNotes[0] } }),
    );

    expect(note).toMatchObject({
      id: acmeNotes[0],
      body: 'roadmap ACME-MARKER-0',
      createdBy: acme.sub,
    });
  });

  it("answers another tenant's note id exactly like a missing one", async () => {
    const foreign = await acmeClient.callTool({
      name: 'notes_get',
      arguments: { id: globexNotes[0] },
    });
    const missing = await acmeClient.callTool({
      name: 'notes_get',
      arguments: { id: '000000000000000000000' },
    });

    expect(foreign).toEqual(missing);
    expect(foreign.isError).toBe(true);
    expect(JSON.stringify(foreign)).not.toMatch(/GLOBEX|globex/i);
  });

  it('searches within the tenant only', async () => {
    const found = toolOutput(
      await acmeClient.callTool({ name: 'notes_search', arguments: { query: 'ROADMAP' } }),
    );

    expect((found.notes as Array<{ id: string }>).map((n) => n.id).sort()).toEqual(
      [...acmeNotes].sort(),
    );
    expect(JSON.stringify(found)).not.toMatch(/GLOBEX/);
  });

  it('pages through notes with a cursor that only works for its tenant', async () => {
    const first = toolOutput(
      await acmeClient.callTool({ name: 'notes_list', arguments: { limit: 2 } }),
    );
    const second = toolOutput(
      await acmeClient.callTool({
        name: 'notes_list',
        arguments: { limit: 2, cursor: first.nextCursor },
      }),
    );
    const stolen = toolOutput(
      await globexClient.callTool({
        name: 'notes_list',
        arguments: { limit: 2, cursor: first.nextCursor },
      }),
    );

    const pages = [
      ...(first.notes as Array<{ id: string }>),
      ...(second.notes as Array<{ id: string }>),
    ];
    expect(pages.map((n) => n.id)).toEqual([...acmeNotes].reverse());
    expect(stolen).toEqual({ error: 'Invalid cursor.' });
  });

  it('reads its own notes as note:// resources and not the other tenant’s', async () => {
    const own = await acmeClient.readResource({ uri: `note://${acmeNotes[1]}` });
    const listed = await acmeClient.listResources();
    const foreign = acmeClient.readResource({ uri: `note://${globexNotes[1]}` });
    const missing = acmeClient.readResource({ uri: 'note://000000000000000000000' });

    expect(own.contents[0]).toMatchObject({ text: expect.stringContaining('ACME-MARKER-1') });
    expect(listed.resources.map((r) => r.uri).sort()).toEqual(
      acmeNotes.map((id) => `note://${id}`).sort(),
    );
    const [foreignError, missingError] = await Promise.all([
      foreign.then(
        () => undefined,
        (e: Error) => e.message,
      ),
      missing.then(
        () => undefined,
        (e: Error) => e.message,
      ),
    ]);
    expect(foreignError).toBeDefined();
    expect(foreignError?.replace(globexNotes[1] as string, 'ID')).toBe(
      missingError?.replace('000000000000000000000', 'ID'),
    );
  });

  it('offers the draft_note prompt', async () => {
    const prompt = await acmeClient.getPrompt({
      name: 'draft_note',
      arguments: { topic: 'Q3 goals' },
    });

    expect(JSON.stringify(prompt.messages)).toContain('Q3 goals');
  });
});
