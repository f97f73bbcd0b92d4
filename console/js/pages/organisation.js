import { h, replace } from '../dom.js';
import { loadError } from '../errors.js';
import { callTool } from '../mcp.js';

/** @typedef {import('../main.js').PageContext} PageContext */

/**
 * @param {string} term
 * @param {string} id
 * @param {string | number} value
 */
function entry(term, id, value) {
  return [h('dt', {}, term), h('dd', { id }, String(value))];
}

export const organisation = {
  path: 'organisation',
  title: 'Organisation',
  requires: ['tenant_info', 'whoami'],
  /**
   * @param {HTMLElement} main
   * @param {PageContext} _ctx
   */
  async render(main, _ctx) {
    const body = h('div', { class: 'page-body' }, h('p', {}, 'Loading…'));
    main.append(body);
    try {
      const [info, me] = await Promise.all([callTool('tenant_info'), callTool('whoami')]);
      const limits = info.limits ?? {};
      replace(
        body,
        h(
          'section',
          { 'aria-labelledby': 'org-heading' },
          h('h2', { id: 'org-heading' }, 'Your organisation'),
          h(
            'dl',
            {},
            ...entry('Name', 'org-name', info.name),
            ...entry('Organisation id', 'org-id', info.tenantId),
            ...entry('Tier', 'org-tier', info.tier),
            ...entry('Status', 'org-status', info.status),
          ),
        ),
        h(
          'section',
          { 'aria-labelledby': 'limits-heading' },
          h('h2', { id: 'limits-heading' }, 'Limits of your tier'),
          h(
            'dl',
            {},
            ...entry('Requests per second', 'limit-rate', limits.requestsPerSecond),
            ...entry('Burst', 'limit-burst', limits.burst),
            ...entry(
              `Quota per ${String(limits.quotaPeriod).toLowerCase()}`,
              'limit-quota',
              limits.quota,
            ),
          ),
        ),
        h(
          'section',
          { 'aria-labelledby': 'me-heading' },
          h('h2', { id: 'me-heading' }, 'You'),
          h(
            'dl',
            {},
            ...entry('Role', 'my-role', me.role),
            ...entry('User id', 'my-user-id', me.userId),
            ...entry('Tools you can use', 'my-tools', (me.tools ?? []).length),
          ),
        ),
      );
    } catch (error) {
      replace(body, loadError(error));
    }
  },
};
