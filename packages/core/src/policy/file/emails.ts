/**
 * Email addresses in a string, the way a domain rule must see them. A recipient field is a
 * list (`a@x, b@y; <c@z>`), may carry display names, comments, encodings and look-alike
 * characters; every address in it becomes a fact, so one outside address among inside ones,
 * or `x@example.com.evil.io`, cannot pass a rule on the domain.
 */
import { domainToASCII } from 'node:url';
import { Email } from './fact-classes.js';
import { normaliseForFacts } from './text.js';

/**
 * Separators of an address list: `<>` around an address, quotes around a display name or a
 * quoted local part, parentheses around a comment. A quoted local part (`"bob@example.com"@evil.io`)
 * thus yields both `bob@example.com` and `@evil.io`: every domain after an `@` is a fact, so the
 * one mail really goes to is among them.
 */
const SEPARATORS = /[\s,;<>"'`()[\]{}|/\\]+/;
/** What may follow an address in prose and is not part of it. */
const TRAILING = /[.:!?]+$/;

/** Lower-cased, trailing dots removed, IDN to punycode; a name IDNA refuses stays as written (lower-cased). */
export function normaliseDomain(raw: string): string {
  const d = raw.toLowerCase().replace(/\.+$/, '');
  if (d === '') return d;
  // ASCII letters, digits, dots and hyphens need no IDNA pass (and it is the costly part).
  if (/^[a-z0-9.-]+$/.test(d)) return d;
  const ascii = domainToASCII(d);
  return ascii === '' ? d : ascii.replace(/\.+$/, '');
}

function addressFrom(token: string): Email | undefined {
  let t = token.replace(TRAILING, '');
  if (t.toLowerCase().startsWith('mailto:')) t = t.slice(7);
  const q = t.indexOf('?');
  if (q >= 0) t = t.slice(0, q); // mailto:a@b?subject=...
  // The last `@` decides where mail goes: `a@example.com@evil.io`, `@example.com:a@evil.io`.
  const at = t.lastIndexOf('@');
  if (at < 0) return undefined;
  const local = t.slice(0, at).replace(/^[@:]+/, '');
  const domain = normaliseDomain(t.slice(at + 1));
  if (domain === '') return undefined;
  return new Email(`${local}@${domain}`, local, domain);
}

/** Every address in `text`, in order. */
export function emailsIn(text: string): Email[] {
  if (!text.includes('@') && !text.includes('%') && !text.includes('&') && !/[^\x00-\x7f]/.test(text)) return [];
  let view = normaliseForFacts(text);
  if (!view.includes('@')) return [];
  // Obsolete RFC 5322 syntax allows space around the `@`: `bob @ evil.io` is an address.
  view = view.replace(/\s*@\s*/g, '@');
  const out: Email[] = [];
  for (const token of view.split(SEPARATORS)) {
    if (!token.includes('@')) continue;
    const email = addressFrom(token);
    if (email) out.push(email);
  }
  return out;
}
