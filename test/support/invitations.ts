/**
 * The invitation page (the façade's), driven as a person's browser would: open the link, sign
 * up with an address and a password, confirm with the e-mailed code. No vitest here: the dev
 * test drives it against its own stack.
 */
export interface InvitationOutcome {
  /** The title of the last page the person saw. */
  readonly page: string;
  /** Its error message, if it showed one. */
  readonly error?: string;
}

const title = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? '';
const alert = (html: string) =>
  /role="alert">([^<]*)</
    .exec(html)?.[1]
    ?.replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"');

export async function acceptInvitation(
  link: string,
  person: { email: string; password: string },
  inbox: (email: string) => Promise<string | null>,
): Promise<InvitationOutcome> {
  const page = await fetch(link);
  const html = await page.text();
  const code = /name="code" value="([^"]*)"/.exec(html)?.[1];
  if (!code) return { page: title(html), error: alert(html) };
  const base = link.slice(0, link.indexOf('/invitations'));
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    }).then((response) => response.text());
  const signedUp = await post('/invitations', { code, ...person });
  if (title(signedUp) !== 'Confirm your e-mail') {
    return { page: title(signedUp), error: alert(signedUp) };
  }
  const confirmation = /(\d{6})/.exec((await inbox(person.email)) ?? '')?.[1] ?? '';
  const done = await post('/invitations/confirm', {
    code,
    email: person.email,
    confirmation,
  });
  return { page: title(done), error: alert(done) };
}
