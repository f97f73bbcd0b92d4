import { daysBetween, usageChart } from '../chart.js';
import { h, replace, table } from '../dom.js';
import { loadError } from '../errors.js';
import { callTool } from '../mcp.js';

/** @param {any} report */
function budget({ budget: { month, limit, spent, remaining } }) {
  return h(
    'section',
    { 'aria-labelledby': 'budget-heading' },
    h('h2', { id: 'budget-heading' }, 'Monthly budget'),
    h('label', { for: 'budget' }, `Tool calls spent in ${month}`),
    h('meter', { id: 'budget', min: 0, max: limit, value: spent, high: limit * 0.9, optimum: 0 }),
    h('p', { id: 'budget-text' }, `${spent} of ${limit} calls used; ${remaining} left.`),
  );
}

/** @param {any} report */
function calls(report) {
  /** @type {Map<string, number>} */
  const perTool = new Map();
  for (const row of report.days) perTool.set(row.tool, (perTool.get(row.tool) ?? 0) + row.calls);
  const tools = [...perTool.keys()].sort((a, b) => (perTool.get(b) ?? 0) - (perTool.get(a) ?? 0));
  const { el, tbody } = table(
    'usage-table',
    `Calls per day and tool, ${report.from} to ${report.to}`,
    ['Day', 'Tool', 'Calls', 'Errors', 'Average ms'],
  );
  for (const { day, tool, calls, errors, averageDurationMs } of report.days) {
    tbody.append(
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, day),
        h('td', {}, tool),
        ...[calls, errors, averageDurationMs].map((n) => h('td', { class: 'num' }, n)),
      ),
    );
  }
  const legend = tools.map((tool, i) =>
    h('li', {}, h('span', { class: `swatch c${i % 6}` }), tool),
  );
  return h(
    'section',
    { 'aria-labelledby': 'calls-heading' },
    h('h2', { id: 'calls-heading' }, 'Calls'),
    h('p', {}, `${report.totals.calls} calls, ${report.totals.errors} errors.`),
    usageChart('usage-chart', daysBetween(report.from, report.to), tools, report.days),
    h('ul', { class: 'legend', 'aria-label': 'Colours of the chart' }, ...legend),
    el,
  );
}

export const usage = {
  path: 'usage',
  title: 'Usage',
  requires: ['usage_report'],
  /** This month so far (the tool's default period). @param {HTMLElement} main */
  async render(main) {
    const body = h('div', {}, h('p', {}, 'Loading…'));
    main.append(body);
    try {
      const report = await callTool('usage_report');
      replace(body, budget(report), calls(report));
    } catch (error) {
      replace(body, loadError(error));
    }
  },
};
