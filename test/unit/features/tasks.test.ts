import { afterEach, describe, expect, it } from 'vitest';
import { call, featureClients } from '../../support/feature-client.js';
import { MemoryTenancy, memoryContext } from '../../support/memory-tenancy.js';

/** The example feature of docs/EXTENDING.md, through the MCP SDK's client, in memory. */
describe('the tasks feature', () => {
  const clients = featureClients();
  afterEach(clients.closeAll);
  const connect = (tenancy: MemoryTenancy, tenantId: string) =>
    clients.connect(tenancy.scope(memoryContext(tenantId, { role: 'member', tier: 'free' })));

  it('creates, lists and completes a task, keeping its details sealed and out of lists', async () => {
    const tenancy = new MemoryTenancy();
    const acme = await connect(tenancy, 'acme');

    const task = await call(acme, 'tasks_create', {
      title: 'Renew the domain',
      details: 'card ending 4242',
    });
    expect(task).toMatchObject({
      title: 'Renew the domain',
      details: 'card ending 4242',
      done: false,
    });
    expect(JSON.stringify([...(tenancy.table.items.get('acme')?.values() ?? [])])).not.toContain(
      '4242',
    );

    expect(await call(acme, 'tasks_list')).toEqual({
      tasks: [expect.not.objectContaining({ details: expect.anything() })],
    });
    expect(await call(acme, 'tasks_complete', { id: task.id })).toMatchObject({
      id: task.id,
      done: true,
      details: 'card ending 4242',
    });
    expect(await call(acme, 'tasks_list')).toMatchObject({ tasks: [{ id: task.id, done: true }] });
  });

  it("gets isolation without writing any: another tenant's ids and cursors are refused", async () => {
    const tenancy = new MemoryTenancy();
    const acme = await connect(tenancy, 'acme');
    const globex = await connect(tenancy, 'globex');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(String((await call(acme, 'tasks_create', { title: `t${i}` })).id));
    const page = await call(acme, 'tasks_list', { limit: 1 });

    expect(await call(globex, 'tasks_complete', { id: ids[0] })).toEqual({
      error: 'Task not found.',
    });
    expect(await call(globex, 'tasks_list', { cursor: page.nextCursor })).toEqual({
      error: 'Invalid cursor.',
    });
    expect(await call(globex, 'tasks_list')).toEqual({ tasks: [] });
    expect((await call(acme, 'tasks_list')).tasks).toHaveLength(3);
  });

  it('refuses bad input with a generic message and stores nothing', async () => {
    const tenancy = new MemoryTenancy();
    const acme = await connect(tenancy, 'acme');
    const refused = await acme.callTool({ name: 'tasks_create', arguments: { title: '' } });
    expect(refused.isError).toBe(true);
    expect(await call(acme, 'tasks_complete', { id: 'x'.repeat(21) })).toEqual({
      error: 'Task not found.',
    });
    expect(tenancy.table.items.get('acme')?.size ?? 0).toBe(0);
  });
});
