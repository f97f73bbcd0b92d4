import { h } from './dom.js';

/** The API refused or failed a request: `message` may be shown as it is. */
export class ApiError extends Error {
  name = 'ApiError';
}

/** A tool answered `isError`: its generic message, for the control that asked. */
export class ToolRefusedError extends ApiError {
  name = 'ToolRefusedError';
}

/** The token was refused (HTTP 401): it is forgotten and the sign-in screen is shown. */
export class SessionEndedError extends ApiError {
  name = 'SessionEndedError';
}

/** What a reader is told about an error: the API's own words, or a generic sentence. */
export function messageOf(/** @type {unknown} */ error) {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'The server could not be reached. Try again.';
  return 'Something went wrong. Try again.';
}

/** @param {HTMLElement} control */
function describedBy(control) {
  return (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
}

/**
 * Shows an error next to a control (`#<id>-error`), linked to it with `aria-describedby`; an
 * input or select is also marked `aria-invalid`.
 * @param {HTMLElement} control
 * @param {string} message
 */
export function showError(control, message) {
  const id = `${control.id}-error`;
  let slot = document.getElementById(id);
  if (!slot) {
    slot = h('p', { id, class: 'error' });
    control.after(slot);
  }
  slot.textContent = message;
  if (!describedBy(control).includes(id)) {
    control.setAttribute('aria-describedby', [...describedBy(control), id].join(' '));
  }
  if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement) {
    control.setAttribute('aria-invalid', 'true');
  }
}

/** @param {HTMLElement} control */
export function clearError(control) {
  const id = `${control.id}-error`;
  document.getElementById(id)?.remove();
  const rest = describedBy(control).filter((d) => d !== id);
  if (rest.length) control.setAttribute('aria-describedby', rest.join(' '));
  else control.removeAttribute('aria-describedby');
  control.removeAttribute('aria-invalid');
}

/**
 * Runs what a button asked for: the button is busy meanwhile, and a refusal or failure is shown
 * next to `target` (the field or button the reader acted on). A session that ended is handled
 * by the shell, so nothing is shown here.
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} target
 * @param {() => Promise<void>} work
 */
export async function act(button, target, work) {
  clearError(target);
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  let failure = null;
  try {
    await work();
  } catch (error) {
    failure = error;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
  if (failure === null || failure instanceof SessionEndedError || !target.isConnected) return;
  showError(target, messageOf(failure));
  target.focus();
}

/**
 * A paragraph telling that a page could not load its data.
 * @param {unknown} error
 */
export function loadError(error) {
  return h('p', { class: 'error', role: 'alert' }, messageOf(error));
}
