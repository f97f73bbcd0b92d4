/** The local sign-up and sign-in pages: plain HTML forms, every value escaped. */
import { escapeHtml } from '../../lambda/shared/edge/html.js';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00020}.note{color:#555}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}<p class="note">Local development sign-in (stands in for Cognito Managed Login).</p></body></html>`;
}

/** The OAuth request's parameters, carried through every form as hidden fields. */
export type FlowParams = Record<string, string>;

const hidden = (params: FlowParams) =>
  Object.entries(params)
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    )
    .join('');
const query = (params: FlowParams) => new URLSearchParams(params).toString();
const message = (text?: string, kind: 'error' | 'note' = 'error') =>
  text
    ? `<p class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</p>`
    : '';

export function signInPage(
  params: FlowParams,
  options: { error?: string; notice?: string; newPasswordFor?: string } = {},
): string {
  // After a temporary password, Cognito's NEW_PASSWORD_REQUIRED challenge: a new one, too.
  const newPassword =
    options.newPasswordFor === undefined
      ? ''
      : `
<label for="new_password">New password</label><input id="new_password" name="new_password" type="password" autocomplete="new-password" required>`;
  const email = options.newPasswordFor ? ` value="${escapeHtml(options.newPasswordFor)}"` : '';
  return page(
    options.newPasswordFor === undefined ? 'Sign in' : 'Change your password',
    `${message(options.notice, 'note')}${message(options.error)}
<form method="post" action="/oauth2/authorize">${hidden(params)}
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username"${email} required>
<label for="password">${newPassword ? 'Temporary password' : 'Password'}</label><input id="password" name="password" type="password" autocomplete="current-password" required>${newPassword}
<button type="submit">Sign in</button></form>
<p>No account? <a id="signup-link" href="/signup?${escapeHtml(query(params))}">Sign up your organisation</a></p>`,
  );
}

export function signUpPage(params: FlowParams, options: { error?: string } = {}): string {
  return page(
    'Sign up',
    `${message(options.error)}
<form method="post" action="/signup">${hidden(params)}
<label for="organization">Organisation</label><input id="organization" name="organization" maxlength="100">
<label for="email">E-mail</label><input id="email" name="email" type="email" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" required>
<button type="submit">Sign up</button></form>`,
  );
}

export function confirmPage(
  params: FlowParams,
  email: string,
  session: string,
  options: { error?: string; notice?: string } = {},
): string {
  return page(
    'Confirm your e-mail',
    `${message(options.notice, 'note')}${message(options.error)}${message('The confirmation code was printed on the npm run dev console (no e-mail is sent locally).', 'note')}
<form method="post" action="/confirm">${hidden({ ...params, email, session })}
<label for="code">Confirmation code</label><input id="code" name="code" inputmode="numeric" required>
<button type="submit">Confirm</button></form>
<form method="post" action="/resend">${hidden({ ...params, email, session })}
<button type="submit">Send a new code</button></form>`,
  );
}

export function errorPage(description: string): string {
  return page('Cannot continue', message(description));
}
