/** DOM building without HTML strings: stored content always shows as text, never markup. */

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined>} Attrs */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {Element} el
 * @param {Attrs} attrs
 */
function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    // Inline styles and handlers would break the Content-Security-Policy.
    if (name === 'style' || name.startsWith('on')) throw new Error(`not allowed: ${name}`);
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

/**
 * @param {Element} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
}

/**
 * An HTML element; `true` sets a boolean attribute, `false`/`null` leaves it out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * An SVG element.
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** @param {string} id */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

/** Says something to screen readers (and shows it) in the polite live region. */
export function announce(/** @type {string} */ message) {
  const status = byId('status');
  // Emptied first so the same message said twice is announced twice.
  status.textContent = '';
  setTimeout(() => {
    status.textContent = message;
  }, 50);
}

/**
 * A table with a caption and column headers (`scope="col"`); rows are added to its tbody.
 * @param {string} id
 * @param {string} caption
 * @param {string[]} columns
 */
export function table(id, caption, columns) {
  const tbody = h('tbody');
  const el = h(
    'table',
    { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  );
  return { el, tbody };
}

/**
 * A time as readers expect it (UTC, to the second), with the machine value in `datetime`.
 * @param {string | number} value
 */
export function time(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return h('span', {}, String(value));
  const iso = date.toISOString();
  return h('time', { datetime: iso }, `${iso.slice(0, 19).replace('T', ' ')} UTC`);
}

/**
 * A label and a control side by side, in a `div.field`, with an error slot after the control.
 * @param {string} label
 * @param {HTMLElement} control must have an id
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
  );
}
