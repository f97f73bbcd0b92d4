import { field, h, replace, table, time } from '../dom.js';
import { act, clearError, messageOf, showError } from '../errors.js';
import { callTool } from '../mcp.js';

/** @typedef {import('../main.js').PageContext} PageContext */
/**
 * @typedef {object} AuditRecord
 * @property {string} time
 * @property {{ user?: string, agentId?: string, operator?: boolean }} actor
 * @property {string} action
 * @property {string[]} targets
 * @property {string} outcome
 * @property {string} [requestId]
 */

const PAGE_SIZE = 50;

/**
 * A pseudonym with the member's address beside it, when the member list names them (the trail
 * keeps pseudonyms only; the list, for admins, maps them to the members of today).
 * @param {string} user
 * @param {Map<string, string>} names
 */
function who(user, names) {
  const email = names.get(user);
  return email ? `${email} (${user})` : user;
}

/**
 * @param {AuditRecord['actor']} actor
 * @param {Map<string, string>} names
 */
function actorOf(actor, names) {
  if (actor.operator) return 'operator';
  const parts = [];
  if (actor.agentId) parts.push(`agent ${actor.agentId}`);
  if (actor.user) {
    parts.push(actor.agentId ? `for ${who(actor.user, names)}` : who(actor.user, names));
  }
  return parts.join(' ') || 'unknown';
}

/**
 * @param {AuditRecord} record
 * @param {Map<string, string>} names
 */
function recordRow(record, names) {
  return h(
    'tr',
    {},
    h('td', {}, time(record.time)),
    h('td', {}, actorOf(record.actor ?? {}, names)),
    h('td', {}, record.action),
    h('td', {}, (record.targets ?? []).map((target) => who(target, names)).join(', ')),
    h('td', { class: `outcome-${record.outcome}` }, record.outcome),
    h('td', {}, record.requestId ? h('code', {}, record.requestId) : ''),
  );
}

/**
 * A `datetime-local` value (the reader's local time) as an ISO date-time.
 * @param {HTMLInputElement} input
 */
function isoOf(input) {
  if (!input.value) return undefined;
  const date = new Date(input.value);
  if (Number.isNaN(date.getTime())) throw new RangeError(input.id);
  return date.toISOString();
}

export const audit = {
  path: 'audit',
  title: 'Audit trail',
  requires: ['audit_report'],
  /**
   * @param {HTMLElement} main
   * @param {PageContext} ctx
   */
  async render(main, ctx) {
    /** Members by pseudonym, for the actor and target columns. @type {Map<string, string>} */
    const names = new Map();
    if (ctx.has('tenant_users_list')) {
      try {
        const { users } = await callTool('tenant_users_list', {});
        for (const u of users) if (u.user && u.email) names.set(u.user, u.email);
      } catch {
        // Pseudonyms alone, then: the trail does not depend on the list.
      }
    }
    const from = h('input', { id: 'audit-from', type: 'datetime-local', step: 1 });
    const to = h('input', { id: 'audit-to', type: 'datetime-local', step: 1 });
    const actor = h('input', {
      id: 'audit-actor',
      type: 'text',
      autocomplete: 'off',
      maxlength: 100,
    });
    const action = h('input', {
      id: 'audit-action',
      type: 'text',
      autocomplete: 'off',
      maxlength: 100,
    });
    const outcome = h(
      'select',
      { id: 'audit-outcome' },
      h('option', { value: '' }, 'any'),
      ...['ok', 'error', 'refused'].map((o) => h('option', { value: o }, o)),
    );
    const apply = h('button', { type: 'submit', id: 'audit-apply' }, 'Apply filters');
    const form = h(
      'form',
      {
        id: 'audit-filters',
        class: 'filters',
        novalidate: true,
        'aria-labelledby': 'audit-filters-heading',
      },
      h('h2', { id: 'audit-filters-heading' }, 'Filters'),
      field('From (your local time)', from),
      field('To (your local time)', to),
      field('Actor (user or agent id)', actor),
      field('Action (tool name)', action),
      field('Outcome', outcome),
      apply,
    );
    const { el, tbody } = table('audit', 'Audit records, newest first', [
      'Time',
      'Actor',
      'Action',
      'Targets',
      'Outcome',
      'Request id',
    ]);
    const summary = h('p', { id: 'audit-summary' }, 'Loading…');
    const next = h('button', { type: 'button', id: 'audit-next', hidden: true }, 'Next page');
    main.append(
      form,
      h(
        'section',
        { 'aria-labelledby': 'audit-heading' },
        h('h2', { id: 'audit-heading' }, 'Records'),
        summary,
        el,
        next,
      ),
    );

    /** @type {Record<string, unknown>} */
    let filters = {};
    let cursor = /** @type {string | undefined} */ (undefined);
    let page = 1;

    const show = async (/** @type {boolean} */ more) => {
      const answer = await callTool('audit_report', {
        ...filters,
        limit: PAGE_SIZE,
        ...(more && cursor ? { cursor } : {}),
      });
      page = more ? page + 1 : 1;
      cursor = answer.nextCursor;
      replace(tbody, ...answer.records.map((record) => recordRow(record, names)));
      const n = answer.records.length;
      summary.className = '';
      summary.textContent = n
        ? `Page ${page}: ${n} record${n === 1 ? '' : 's'}.`
        : 'No records match.';
      next.hidden = !cursor;
    };

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      for (const input of [from, to]) clearError(input);
      try {
        filters = Object.fromEntries(
          Object.entries({
            from: isoOf(from),
            to: isoOf(to),
            actor: actor.value.trim(),
            action: action.value.trim(),
            outcome: outcome.value,
          }).filter(([, v]) => v),
        );
      } catch (error) {
        const input = error instanceof RangeError && error.message === 'audit-to' ? to : from;
        showError(input, 'Enter a date and time.');
        input.focus();
        return;
      }
      act(apply, apply, () => show(false));
    });
    next.addEventListener('click', () =>
      act(next, next, async () => {
        await show(true);
        if (next.hidden) summary.focus();
      }),
    );
    summary.setAttribute('tabindex', '-1');
    try {
      await show(false);
    } catch (error) {
      summary.textContent = messageOf(error);
      summary.className = 'error';
    }
  },
};
