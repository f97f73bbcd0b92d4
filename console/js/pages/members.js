import { announce, field, h, replace, table, time } from '../dom.js';
import { act, clearError, loadError, showError } from '../errors.js';
import { callTool } from '../mcp.js';

/** @typedef {import('../main.js').PageContext} PageContext */
/** @typedef {{ userId: string, email?: string, role: string }} Member */
/** @typedef {{ invitationId: string, email: string, role: string, status: string, expiresAt: string }} Invitation */

const ROLES = ['member', 'admin'];

/**
 * @param {string} id
 * @param {string} selected
 */
function roleSelect(id, selected) {
  return h(
    'select',
    { id, class: 'role' },
    ...ROLES.map((role) => h('option', { value: role, selected: role === selected }, role)),
  );
}

/**
 * One member's row: role change, and removal in two steps (Remove, then Confirm removal).
 * @param {Member} member
 * @param {number} index
 * @param {PageContext} ctx
 * @param {() => Promise<void>} reload
 */
function memberRow(member, index, ctx, reload) {
  const who = member.email ?? member.userId;
  const select = roleSelect(`member-role-${index}`, member.role);
  const actions = h('td', { class: 'actions' });
  const row = h(
    'tr',
    { 'data-user': member.userId },
    h('th', { scope: 'row' }, who),
    h('td', {}, h('label', { for: select.id, class: 'visually-hidden' }, `Role of ${who}`), select),
    actions,
  );
  if (ctx.has('tenant_users_set_role')) {
    const change = h(
      'button',
      { type: 'button', id: `member-change-${index}`, class: 'change-role' },
      'Change role',
    );
    change.addEventListener('click', () =>
      act(change, change, async () => {
        const updated = await callTool('tenant_users_set_role', {
          userId: member.userId,
          role: select.value,
        });
        announce(`${who} is now ${updated.role ?? select.value}.`);
      }),
    );
    actions.append(change);
  } else {
    select.disabled = true;
  }
  if (ctx.has('tenant_users_remove')) {
    const remove = h(
      'button',
      { type: 'button', id: `member-remove-${index}`, class: 'remove danger' },
      'Remove',
    );
    remove.addEventListener('click', () => {
      clearError(remove);
      const confirm = h(
        'button',
        { type: 'button', id: `member-confirm-${index}`, class: 'confirm-remove danger' },
        'Confirm removal',
      );
      const cancel = h('button', { type: 'button', class: 'cancel-remove secondary' }, 'Cancel');
      const step = h(
        'span',
        { class: 'confirm-step', role: 'group', 'aria-label': `Remove ${who}?` },
        h('span', {}, `Remove ${who} and delete their account?`),
        confirm,
        cancel,
      );
      cancel.addEventListener('click', () => {
        step.remove();
        remove.hidden = false;
        remove.focus();
      });
      confirm.addEventListener('click', () =>
        act(confirm, confirm, async () => {
          await callTool('tenant_users_remove', { userId: member.userId });
          announce(`${who} was removed.`);
          await reload();
        }),
      );
      remove.hidden = true;
      remove.after(step);
      confirm.focus();
    });
    actions.append(remove);
  }
  return row;
}

/**
 * @param {Invitation} invitation
 * @param {PageContext} ctx
 * @param {() => Promise<void>} reload
 */
function invitationRow(invitation, ctx, reload) {
  const actions = h('td', { class: 'actions' });
  if (invitation.status === 'PENDING' && ctx.has('tenant_invitations_revoke')) {
    const revoke = h(
      'button',
      {
        type: 'button',
        id: `invitation-revoke-${invitation.invitationId}`,
        class: 'revoke danger',
      },
      'Revoke',
    );
    revoke.addEventListener('click', () =>
      act(revoke, revoke, async () => {
        await callTool('tenant_invitations_revoke', { invitationId: invitation.invitationId });
        announce(`The invitation to ${invitation.email} was revoked.`);
        await reload();
      }),
    );
    actions.append(revoke);
  }
  return h(
    'tr',
    { 'data-invitation': invitation.invitationId },
    h('th', { scope: 'row' }, invitation.email),
    h('td', {}, invitation.role),
    h('td', {}, invitation.status.toLowerCase()),
    h('td', {}, time(invitation.expiresAt)),
    actions,
  );
}

/**
 * The invitation form; the result (with the link, shown once) goes to `#invite-result`.
 * @param {() => Promise<void>} reload
 */
function inviteForm(reload) {
  const email = h('input', {
    id: 'invite-email',
    type: 'email',
    required: true,
    autocomplete: 'off',
    maxlength: 254,
  });
  const role = roleSelect('invite-role', 'member');
  const submit = h('button', { type: 'submit', id: 'invite-submit' }, 'Invite');
  const result = h('div', { id: 'invite-result' });
  const form = h(
    'form',
    { id: 'invite-form', novalidate: true, 'aria-labelledby': 'invite-heading' },
    h('h2', { id: 'invite-heading' }, 'Invite a person'),
    field('E-mail address', email),
    field('Role', role),
    submit,
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearError(email);
    if (!email.value.trim() || !email.validity.valid) {
      showError(email, 'Enter an e-mail address, like name@example.com.');
      email.focus();
      return;
    }
    replace(result);
    act(submit, email, async () => {
      const invitation = await callTool('tenant_users_invite', {
        email: email.value.trim(),
        role: role.value,
      });
      replace(
        result,
        h(
          'p',
          {},
          `Invitation for ${invitation.email} (${invitation.role}), valid until `,
          time(invitation.expiresAt),
          '.',
        ),
        h('p', {}, 'Send them this link (shown only now):'),
        h('p', {}, h('code', { id: 'invite-link' }, invitation.acceptUrl)),
      );
      announce(`Invitation created for ${invitation.email}.`);
      form.reset();
      await reload();
    });
  });
  return form;
}

export const members = {
  path: 'members',
  title: 'Members',
  requires: ['tenant_users_list'],
  /**
   * @param {HTMLElement} main
   * @param {PageContext} ctx
   */
  async render(main, ctx) {
    const list = h(
      'section',
      { 'aria-labelledby': 'members-heading' },
      h('h2', { id: 'members-heading' }, 'Members'),
    );
    const listBody = h('div', {}, h('p', {}, 'Loading…'));
    list.append(listBody);
    main.append(list);
    const invites = h('div');
    const loadMembers = async () => {
      try {
        const { users } = await callTool('tenant_users_list');
        const { el, tbody } = table('members', 'Members of your organisation', [
          'Member',
          'Role',
          'Actions',
        ]);
        users.forEach((/** @type {Member} */ m, /** @type {number} */ i) => {
          tbody.append(memberRow(m, i, ctx, loadMembers));
        });
        replace(listBody, el);
      } catch (error) {
        replace(listBody, loadError(error));
      }
    };
    const loadInvitations = async () => {
      if (!ctx.has('tenant_invitations_list')) return;
      try {
        const { invitations } = await callTool('tenant_invitations_list');
        const { el, tbody } = table('invitations', 'Invitations', [
          'E-mail',
          'Role',
          'Status',
          'Expires',
          'Actions',
        ]);
        for (const inv of invitations) tbody.append(invitationRow(inv, ctx, loadInvitations));
        const empty = invitations.length === 0;
        replace(invites, el, empty && h('p', { id: 'invitations-empty' }, 'No invitations yet.'));
      } catch (error) {
        replace(invites, loadError(error));
      }
    };
    if (ctx.has('tenant_users_invite')) main.append(inviteForm(loadInvitations));
    if (ctx.has('tenant_invitations_list')) {
      main.append(
        h(
          'section',
          { 'aria-labelledby': 'invitations-heading' },
          h('h2', { id: 'invitations-heading' }, 'Invitations'),
          invites,
        ),
      );
    }
    await Promise.all([loadMembers(), loadInvitations()]);
  },
};
