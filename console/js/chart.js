import { svg } from './dom.js';

/** @typedef {{ day: string, tool: string, calls: number }} UsageRow */

const COLOURS = 6;
const HEIGHT = 200;
const LEFT = 44;
const BOTTOM = 24;
const BAR = 18;
const GAP = 6;

/** Every day from `from` to `to` (yyyy-mm-dd, UTC), at most 92. */
export function daysBetween(/** @type {string} */ from, /** @type {string} */ to) {
  const days = [];
  for (let t = Date.parse(from); t <= Date.parse(to) && days.length < 92; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * A stacked bar chart of calls per day, one colour per tool (the legend and the table beside
 * it carry the same numbers as text). Built as SVG elements: no markup strings, no styles.
 * @param {string} id
 * @param {string[]} days
 * @param {string[]} tools in legend order; a tool's colour is `c<index mod 6>`
 * @param {UsageRow[]} rows
 */
export function usageChart(id, days, tools, rows) {
  const byDay = new Map(days.map((d) => [d, /** @type {UsageRow[]} */ ([])]));
  for (const row of rows) byDay.get(row.day)?.push(row);
  const totals = days.map((d) => (byDay.get(d) ?? []).reduce((n, r) => n + r.calls, 0));
  const max = Math.max(1, ...totals);
  const width = LEFT + days.length * (BAR + GAP) + GAP;
  const plot = HEIGHT - BOTTOM - 8;
  const y = (/** @type {number} */ calls) => HEIGHT - BOTTOM - (calls / max) * plot;

  const chart = svg(
    'svg',
    {
      id,
      class: 'chart',
      viewBox: `0 0 ${width} ${HEIGHT}`,
      width,
      height: HEIGHT,
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      focusable: 'false',
    },
    svg('title', { id: `${id}-title` }, 'Tool calls per day and tool'),
    svg(
      'desc',
      { id: `${id}-desc` },
      `From ${days[0]} to ${days.at(-1)}, at most ${max} calls a day. The table below holds the same numbers.`,
    ),
    svg('line', { class: 'axis', x1: LEFT, x2: width, y1: HEIGHT - BOTTOM, y2: HEIGHT - BOTTOM }),
    svg('text', { class: 'tick', x: LEFT - 6, y: y(max) + 4, 'text-anchor': 'end' }, max),
    svg('text', { class: 'tick', x: LEFT - 6, y: HEIGHT - BOTTOM + 4, 'text-anchor': 'end' }, 0),
  );
  days.forEach((day, i) => {
    const x = LEFT + GAP + i * (BAR + GAP);
    let top = HEIGHT - BOTTOM;
    for (const row of byDay.get(day) ?? []) {
      const height = (row.calls / max) * plot;
      top -= height;
      const colour = `c${tools.indexOf(row.tool) % COLOURS}`;
      chart.append(
        svg(
          'rect',
          { class: `bar ${colour}`, x, y: top, width: BAR, height: Math.max(height, 0.5) },
          svg('title', {}, `${day}, ${row.tool}: ${row.calls} calls`),
        ),
      );
    }
    if (i % Math.max(1, Math.ceil(days.length / 10)) === 0) {
      chart.append(
        svg(
          'text',
          { class: 'tick', x: x + BAR / 2, y: HEIGHT - 6, 'text-anchor': 'middle' },
          day.slice(5),
        ),
      );
    }
  });
  return chart;
}
