import { announce, field, h, replace, table, time } from '../dom.js';
import { act, clearError, loadError, showError } from '../errors.js';
import { callTool } from '../mcp.js';
import { showSecretOnce } from '../secret-panel.js';

/** @typedef {import('../main.js').PageContext} PageContext */
/** @typedef {import('../mcp.js').ToolInfo} ToolInfo */
/**
 * @typedef {object} Agent
 * @property {string} agentId
 * @property {string} clientId
 * @property {string} name
 * @property {string[]} tools
 * @property {'read' | 'write'} access
 * @property {string} createdAt
 * @property {string} [rotatedAt]
 */

/**
 * Tools only admins are served: an agent is never more than a member, so they are not offered
 * (the server refuses them anyway; this only spares the reader a refusal).
 */
const ADMIN_TOOLS = new Set([
  'tenant_users_list',
  'tenant_users_invite',
  'tenant_users_set_role',
  'tenant_users_remove',
  'tenant_invitations_list',
  'tenant_invitations_revoke',
  'agents_create',
  'agents_list',
  'agents_rotate',
  'agents_revoke',
  'integrations_set',
  'notes_delete',
  'audit_report',
]);

/**
 * What create and rotate return: the secret, shown once.
 * @param {HTMLElement} panel
 * @param {any} credentials
 * @param {string} heading
 */
function showCredentials(panel, credentials, heading) {
  showSecretOnce(
    panel,
    heading,
    [
      { label: 'Client id', value: credentials.agent.clientId },
      { label: 'Client secret', value: credentials.clientSecret, secret: true },
      { label: 'Token endpoint', value: credentials.tokenEndpoint },
    ],
    credentials.howTo,
  );
}

/**
 * @param {ToolInfo[]} grantable
 * @param {HTMLElement} panel
 * @param {() => Promise<void>} reload
 */
function agentForm(grantable, panel, reload) {
  const name = h('input', {
    id: 'agent-name',
    type: 'text',
    required: true,
    maxlength: 64,
    autocomplete: 'off',
  });
  const access = h(
    'select',
    { id: 'agent-access' },
    h('option', { value: 'read' }, 'read (read-only tools only)'),
    h('option', { value: 'write' }, 'write'),
  );
  const boxes = grantable.map((tool) =>
    h('input', {
      type: 'checkbox',
      id: `agent-tool-${tool.name}`,
      name: 'agent-tools',
      value: tool.name,
    }),
  );
  const tools = h(
    'fieldset',
    { id: 'agent-tools' },
    h('legend', {}, 'Tools the agent may call'),
    ...grantable.map((tool, i) =>
      h(
        'div',
        { class: 'check' },
        boxes[i],
        h('label', { for: boxes[i]?.id }, tool.name, tool.readOnly ? '' : ' (changes data)'),
      ),
    ),
  );
  const onAccess = () => {
    grantable.forEach((tool, i) => {
      const box = boxes[i];
      if (!box || tool.readOnly) return;
      box.disabled = access.value === 'read';
      if (box.disabled) box.checked = false;
    });
  };
  access.addEventListener('change', onAccess);
  onAccess();
  const submit = h('button', { type: 'submit', id: 'agent-submit' }, 'Create agent');
  const form = h(
    'form',
    { id: 'agent-form', novalidate: true, 'aria-labelledby': 'agent-form-heading' },
    h('h2', { id: 'agent-form-heading' }, 'Create an agent'),
    field('Name', name, 'Letters, digits, spaces, dots, dashes and underscores; up to 64.'),
    field('Access', access),
    tools,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearError(name);
    clearError(tools);
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!name.value.trim()) {
      showError(name, 'Enter a name for the agent.');
      name.focus();
      return;
    }
    if (chosen.length === 0) {
      showError(tools, 'Choose at least one tool.');
      boxes.find((b) => !b.disabled)?.focus();
      return;
    }
    act(submit, submit, async () => {
      const created = await callTool('agents_create', {
        name: name.value.trim(),
        tools: chosen,
        access: access.value,
      });
      form.reset();
      onAccess();
      await reload();
      showCredentials(panel, created, `Agent ${created.agent.name} created`);
      announce(`Agent ${created.agent.name} created. Store its secret now.`);
    });
  });
  return form;
}

/**
 * @param {Agent} agent
 * @param {HTMLElement} panel
 * @param {() => Promise<void>} reload
 * @param {PageContext} ctx
 */
function agentRow(agent, panel, reload, ctx) {
  const actions = h('td', { class: 'actions' });
  if (ctx.has('agents_rotate')) {
    const rotate = h(
      'button',
      { type: 'button', id: `agent-rotate-${agent.agentId}`, class: 'rotate' },
      'Rotate secret',
    );
    rotate.addEventListener('click', () =>
      act(rotate, rotate, async () => {
        const rotated = await callTool('agents_rotate', { agentId: agent.agentId });
        await reload();
        showCredentials(panel, rotated, `New secret for ${rotated.agent.name}`);
        announce(`The secret of ${agent.name} was rotated. The old one no longer works.`);
      }),
    );
    actions.append(rotate);
  }
  if (ctx.has('agents_revoke')) {
    const revoke = h(
      'button',
      { type: 'button', id: `agent-revoke-${agent.agentId}`, class: 'revoke danger' },
      'Revoke',
    );
    revoke.addEventListener('click', () =>
      act(revoke, revoke, async () => {
        await callTool('agents_revoke', { agentId: agent.agentId });
        announce(`Agent ${agent.name} was revoked.`);
        await reload();
      }),
    );
    actions.append(revoke);
  }
  return h(
    'tr',
    { 'data-agent': agent.agentId },
    h('th', { scope: 'row' }, agent.name),
    h('td', {}, h('code', {}, agent.clientId)),
    h('td', {}, agent.tools.join(', ')),
    h('td', {}, agent.access),
    h('td', {}, time(agent.createdAt)),
    h('td', {}, agent.rotatedAt ? time(agent.rotatedAt) : 'never'),
    actions,
  );
}

export const agents = {
  path: 'agents',
  title: 'Agents',
  requires: ['agents_list'],
  /**
   * @param {HTMLElement} main
   * @param {PageContext} ctx
   */
  async render(main, ctx) {
    const panel = h('section', { id: 'agent-secret', class: 'secret-panel', hidden: true });
    const listBody = h('div', {}, h('p', {}, 'Loading…'));
    const load = async () => {
      try {
        const { agents: list } = await callTool('agents_list');
        const { el, tbody } = table('agents', 'Agents of your organisation', [
          'Name',
          'Client id',
          'Tools',
          'Access',
          'Created',
          'Secret rotated',
          'Actions',
        ]);
        for (const agent of list) tbody.append(agentRow(agent, panel, load, ctx));
        replace(listBody, el, list.length === 0 && h('p', {}, 'No agents yet.'));
      } catch (error) {
        replace(listBody, loadError(error));
      }
    };
    main.append(
      h(
        'p',
        {},
        'An agent is an OAuth client for an unattended caller (a job, a bot), limited to the tools you choose.',
      ),
      panel,
    );
    if (ctx.has('agents_create')) {
      const grantable = ctx.tools.filter((t) => !ADMIN_TOOLS.has(t.name));
      main.append(agentForm(grantable, panel, load));
    }
    main.append(
      h(
        'section',
        { 'aria-labelledby': 'agents-heading' },
        h('h2', { id: 'agents-heading' }, 'Agents'),
        listBody,
      ),
    );
    await load();
  },
};
