/**
 * Characters that must never reach a terminal as they are: C0 and C1 controls (the escape
 * character among them), Unicode format characters (bidirectional overrides, zero-width
 * joiners) and the line and paragraph separators. Tenants choose strings that operators see
 * (organisation names, e-mail addresses, tool names): each is printed through `printable`.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** The string with every unprintable character shown as `\uXXXX`, so none acts on a terminal. */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
