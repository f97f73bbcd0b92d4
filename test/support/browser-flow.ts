/** A person at the keyboard: who they are, and whether they sign up first. */
export interface Person {
  readonly email: string;
  readonly password: string;
  /** Sign up (with this organisation name) before signing in. */
  readonly signUpAs?: string;
  /** What they answer on the façade's consent page. @default 'allow' */
  readonly consent?: 'allow' | 'deny';
}

/** A browser's cookies: by origin, then by name. */
export type CookieJar = Map<string, Map<string, string>>;

/** The Cookie header this browser sends to a URL. */
export function cookieHeader(jar: CookieJar, url: string | URL): string {
  return [...(jar.get(new URL(url).origin) ?? new Map<string, string>())]
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

export interface BrowserOutcome {
  /** Where the browser was finally sent: the client's redirect URI with the code or error. */
  readonly redirect: URL;
  /** Every page the person saw, by title, in order. */
  readonly pages: readonly string[];
}

const unescapeHtml = (value: string) =>
  value.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] as string,
  );

function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(match[1] as string)] = unescapeHtml(match[2] as string);
  }
  return fields;
}

const formAction = (html: string) =>
  unescapeHtml(/<form method="post" action="([^"]*)"/.exec(html)?.[1] ?? '');

/**
 * Plays the browser part (no vitest here: the conformance runner drives it too) of an OAuth sign-in against the local stack, as a person would with
 * the pages: follows redirects from the authorization URL through the façade (answering its
 * consent page) to the local Managed Login pages, signs up and confirms with the e-mailed code
 * or signs in (waiting while a new organisation is set up), and stops where the browser is
 * sent to an address outside the stack (the client's redirect URI), which is returned.
 * Cookies are kept per origin, as a browser keeps them.
 */
export async function completeInBrowser(
  authorizationUrl: string | URL,
  person: Person,
  stack: {
    /** Where the stack serves pages; the first address elsewhere ends the journey. */
    readonly origins: readonly string[];
    /** The last message e-mailed to an address (the stand-in's inbox). */
    readonly inbox: (email: string) => Promise<string | null>;
    /** The browser's cookies, kept across journeys (a new, empty browser otherwise). */
    readonly jar?: CookieJar;
  },
): Promise<BrowserOutcome> {
  const { origins: stackOrigins, inbox } = stack;
  const jar = stack.jar ?? new Map<string, Map<string, string>>();
  const pages: string[] = [];
  let signedUp = !person.signUpAs;

  const request = async (url: URL, form?: Record<string, string>) => {
    const cookies = jar.get(url.origin) ?? new Map<string, string>();
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(cookies.size
          ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') }
          : {}),
      },
      ...(form ? { body: new URLSearchParams(form) } : {}),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (/max-age=0/i.test(header)) cookies.delete(name);
      else cookies.set(name, value);
    }
    jar.set(url.origin, cookies);
    return response;
  };

  let url = new URL(authorizationUrl);
  let response = await request(url);
  for (let step = 0; step < 200; step++) {
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location') as string, url);
      if (!stackOrigins.includes(next.origin)) return { redirect: next, pages };
      url = next;
      response = await request(url);
      continue;
    }
    const html = await response.text();
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? `HTTP ${response.status}`;
    pages.push(title);
    const fields = hiddenFields(html);
    const post = (action: string, extra: Record<string, string>) => {
      url = new URL(action, url);
      return request(url, { ...fields, ...extra });
    };
    if (html.includes('id="allow"')) {
      response = await post(formAction(html), { decision: person.consent ?? 'allow' });
    } else if (title === 'Sign in' && !signedUp) {
      url = new URL(
        /id="signup-link" href="([^"]*)"/.exec(html)?.[1]?.replaceAll('&amp;', '&') ?? '',
        url,
      );
      response = await request(url);
    } else if (title === 'Sign up') {
      signedUp = true;
      response = await post(formAction(html), {
        organization: person.signUpAs ?? '',
        email: person.email,
        password: person.password,
      });
    } else if (title === 'Confirm your e-mail') {
      const code = /(\d{6})/.exec((await inbox(person.email)) ?? '')?.[1] ?? '';
      response = await post(formAction(html), { code });
    } else if (title === 'Sign in') {
      // Any refusal is a failure, the first sign-in right after sign-up included.
      const alert = /role="alert">([^<]*)</.exec(html)?.[1];
      if (alert) throw new Error(`sign-in refused: ${unescapeHtml(alert)}`);
      response = await post(formAction(html), { email: person.email, password: person.password });
    } else {
      throw new Error(`the browser stopped at "${title}" (${response.status}) on ${url.href}`);
    }
  }
  throw new Error('the sign-in never reached the client');
}
