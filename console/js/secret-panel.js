import { h, replace } from './dom.js';

/**
 * Shows a secret once in `panel` until dismissed; then the panel is emptied and nothing in the
 * console holds the value any more.
 * @param {HTMLElement} panel hidden while empty
 * @param {string} heading
 * @param {Array<{ label: string, value: string, secret?: boolean }>} entries
 * @param {string} [note]
 */
export function showSecretOnce(panel, heading, entries, note) {
  const headingId = `${panel.id}-heading`;
  const dismiss = h(
    'button',
    { type: 'button', id: `${panel.id}-dismiss` },
    'I have stored it: hide',
  );
  dismiss.addEventListener('click', () => {
    replace(panel);
    panel.hidden = true;
  });
  replace(
    panel,
    h('h2', { id: headingId, tabindex: -1 }, heading),
    h('p', { class: 'warning' }, 'Shown once: store it now. It cannot be shown again.'),
    h(
      'dl',
      {},
      ...entries.flatMap(({ label, value, secret }) => [
        h('dt', {}, label),
        h('dd', {}, h('code', { class: secret ? 'secret-value' : null }, value)),
      ]),
    ),
    note && h('p', {}, note),
    dismiss,
  );
  panel.setAttribute('aria-labelledby', headingId);
  panel.hidden = false;
  panel.querySelector('h2')?.focus();
}
