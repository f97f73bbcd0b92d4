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

const formAction = (html: string, index = 0) =>
  [...html.matchAll(/<form method="post" action="([^"]*)"/g)][index]?.[1]?.replace(/&amp;/g, '&');

export async function acceptInvitation(
  link: string,
  person: { email: string; password: string },
  inbox: (email: string) => Promise<string | null>,
  options: { wrongCodeFirst?: boolean } = {},
): Promise<InvitationOutcome> {
  const page = await fetch(link);
  const html = await page.text();
  const code = /name="code" value="([^"]*)"/.exec(html)?.[1];
  if (!code) return { page: title(html), error: alert(html) };
  // Every form posts where the page says, as a browser would.
  const post = (action: string, fields: Record<string, string>) =>
    fetch(new URL(action, link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    }).then((response) => response.text());
  let shown = await post(formAction(html) as string, { code, ...person });
  if (title(shown) !== 'Confirm your e-mail') return { page: title(shown), error: alert(shown) };
  const confirmation = /(\d{6})/.exec((await inbox(person.email)) ?? '')?.[1] ?? '';
  if (options.wrongCodeFirst) {
    const wrong = confirmation === '000000' ? '000001' : '000000';
    shown = await post(formAction(shown) as string, {
      code,
      email: person.email,
      confirmation: wrong,
    });
    if (!alert(shown)) return { page: title(shown), error: 'a wrong code was accepted' };
  }
  const done = await post(formAction(shown) as string, {
    code,
    email: person.email,
    confirmation,
  });
  return { page: title(done), error: alert(done) };
}
