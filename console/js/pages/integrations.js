import { randomToken } from '../auth.js';
import { announce, field, h, replace } from '../dom.js';
import { act, clearError, showError } from '../errors.js';
import { callTool } from '../mcp.js';
import { showSecretOnce } from '../secret-panel.js';

/** @typedef {import('../main.js').PageContext} PageContext */

export const integrations = {
  path: 'integrations',
  title: 'Integrations',
  requires: ['integrations_set'],
  /**
   * The webhook that receives published notes. The server never shows the URL or the signing
   * secret back: setting it again (with a new secret) is how the secret is rotated.
   * @param {HTMLElement} main
   * @param {PageContext} _ctx
   */
  render(main, _ctx) {
    const url = h('input', {
      id: 'webhook-url',
      type: 'url',
      required: true,
      autocomplete: 'off',
      maxlength: 2048,
      placeholder: 'https://',
    });
    const secret = h('input', {
      id: 'webhook-secret',
      type: 'password',
      autocomplete: 'new-password',
      minlength: 16,
      maxlength: 256,
    });
    const submit = h('button', { type: 'submit', id: 'webhook-submit' }, 'Save webhook');
    const result = h('div', { id: 'webhook-result' });
    const form = h(
      'form',
      { id: 'webhook-form', novalidate: true, 'aria-labelledby': 'webhook-heading' },
      h('h2', { id: 'webhook-heading' }, 'Webhook'),
      h(
        'p',
        {},
        'Published notes are sent to this https URL, signed with the signing secret. The current URL and secret are never shown again: to rotate the secret, save the webhook again with a new one.',
      ),
      field('Webhook URL', url),
      field(
        'Signing secret (optional)',
        secret,
        'Leave empty and the console makes a strong secret and shows it to you once. At least 16 characters.',
      ),
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearError(url);
      clearError(secret);
      replace(result);
      let parsed = null;
      try {
        parsed = new URL(url.value.trim());
      } catch {
        parsed = null;
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol)) {
        showError(url, 'Enter the full URL of your webhook, like https://example.com/hooks/notes.');
        url.focus();
        return;
      }
      if (secret.value && secret.value.length < 16) {
        showError(secret, 'The signing secret needs at least 16 characters.');
        secret.focus();
        return;
      }
      const generated = secret.value ? null : randomToken();
      act(submit, url, async () => {
        const answer = await callTool('integrations_set', {
          webhookUrl: parsed.href,
          signingSecret: generated ?? secret.value,
        });
        form.reset();
        const panel = h('div', { id: 'webhook-secret-once', class: 'secret-panel', hidden: true });
        replace(
          result,
          h(
            'p',
            { id: 'webhook-configured' },
            `Webhook saved: deliveries go to ${answer.webhookHost}.`,
          ),
          panel,
        );
        announce(`Webhook saved for ${answer.webhookHost}.`);
        if (generated) {
          showSecretOnce(panel, 'Signing secret of your webhook', [
            { label: 'Signing secret', value: generated, secret: true },
          ]);
        }
      });
    });
    main.append(form, result);
  },
};
