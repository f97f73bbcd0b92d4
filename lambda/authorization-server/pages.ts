/** The façade's two pages: consent for a client, and a dead end. Every value escaped. */
import { escapeHtml } from '../shared/edge/html.js';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem}
code{word-break:break-all}button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#b00020}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export function consentPage(options: {
  transaction: string;
  clientName: string;
  clientId: string;
  /** Who vouches for the name: the operator, the client's own website, or no one. */
  clientKind: 'pre-registered' | 'metadata-document' | 'registered';
  redirectUri: string;
  scope: string;
  action: string;
}): string {
  const target = new URL(options.redirectUri);
  const where =
    target.protocol === 'https:' || target.protocol === 'http:' ? target.host : target.protocol;
  const name = escapeHtml(options.clientName);
  const who =
    options.clientKind === 'pre-registered'
      ? `<strong>${name}</strong> (registered by this service's operator)`
      : options.clientKind === 'metadata-document'
        ? // The metadata document's address is the one fact about the client that is checked.
          `An application published at <strong>${escapeHtml(new URL(options.clientId).host)}</strong>, calling itself “${name}”,`
        : `An application calling itself “${name}” (a name it chose; not verified)`;
  return page(
    'Allow access to your MCP tools?',
    `<p>${who} asks to call this MCP server's tools as you, in your organisation.</p>
<p>After you sign in, access is handed to <strong>${escapeHtml(where)}</strong> (<code>${escapeHtml(options.redirectUri)}</code>).
Allow it only if you started this connection from that application.</p>
<p>Access asked for: <code>${escapeHtml(options.scope)}</code> (call the tools your role allows).<br>
Client: <code>${escapeHtml(options.clientId)}</code></p>
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="transaction" value="${escapeHtml(options.transaction)}">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>`,
  );
}

export function errorPage(description: string): string {
  return page('Cannot continue', `<p class="error" role="alert">${escapeHtml(description)}</p>`);
}

interface InvitationActions {
  readonly signUp: string;
  readonly confirm: string;
}

const alert = (text?: string) =>
  text ? `<p class="error" role="alert">${escapeHtml(text)}</p>` : '';

/** The invitation page: sign up with the invited address to accept. */
export function invitationPage(
  code: string,
  actions: InvitationActions,
  options: { error?: string } = {},
): string {
  if (!code) return page('Accept your invitation', alert(options.error));
  return page(
    'Accept your invitation',
    `${alert(options.error)}<p>Sign up with the address the invitation was sent to. You will join the organisation that invited you.</p>
<form method="post" action="${escapeHtml(actions.signUp)}">
<input type="hidden" name="code" value="${escapeHtml(code)}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" required>
<button type="submit">Sign up and join</button></form>`,
  );
}

export function invitationConfirmPage(
  code: string,
  email: string,
  actions: InvitationActions,
  options: { error?: string; notice?: string } = {},
): string {
  const hidden = `<input type="hidden" name="code" value="${escapeHtml(code)}">
<input type="hidden" name="email" value="${escapeHtml(email)}">`;
  const notice = options.notice ? `<p role="status">${escapeHtml(options.notice)}</p>` : '';
  return page(
    'Confirm your e-mail',
    `${notice}${alert(options.error)}<p>Enter the code sent to ${escapeHtml(email)}.</p>
<form method="post" action="${escapeHtml(actions.confirm)}">${hidden}
<label for="confirmation">Confirmation code</label><input id="confirmation" name="confirmation" inputmode="numeric" required>
<button type="submit">Confirm and join</button></form>
<form method="post" action="${escapeHtml(actions.confirm)}">${hidden}
<input type="hidden" name="resend" value="1"><button type="submit">Send a new code</button></form>`,
  );
}

export function invitationDonePage(mcpUrl: string): string {
  return page(
    'Your account is ready',
    `<p>Connect your MCP client to <code>${escapeHtml(mcpUrl)}</code> and sign in with this address. You are in the organisation that invited you, unless its invitation was withdrawn or it closed while you signed up: then you have an organisation of your own.</p>`,
  );
}
