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
// Control characters too: a NUL (or another C0/DEL byte) ends the address for a C mailer.
// eslint-disable-next-line no-control-regex
const SEPARATORS = /[\s\x00-\x1f\x7f,;<>"'`()[\]{}|/\\]+/;
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

/** Where a domain's host name ends: a port, a bang path, junk a lenient parser drops. */
const HOST_END = /[^a-z0-9._\-\u0080-\uffff]/;

function push(out: Email[], local: string, rawDomain: string): void {
  const domain = normaliseDomain(rawDomain);
  if (domain === '') return;
  out.push(new Email(`${local}@${domain}`, local, domain));
  // `evil.io:25`, `evil.io!x`: also the host name before the junk (a deny-list names that).
  const cut = domain.search(HOST_END);
  if (cut > 0) {
    const host = normaliseDomain(domain.slice(0, cut));
    if (host !== '') out.push(new Email(`${local}@${host}`, local, host));
  }
}

/**
 * The addresses of one token. The last `@` decides where a strict mailer sends
 * (`a@example.com@evil.io`, `@example.com:a@evil.io`); a lenient one may stop at the first, so
 * the domain after every `@` is a fact (`a@evil.io#@example.com` names evil.io as well).
 */
function addressesFrom(token: string, out: Email[]): void {
  let t = token.replace(TRAILING, '');
  if (t.toLowerCase().startsWith('mailto:')) t = t.slice(7);
  const q = t.indexOf('?');
  if (q >= 0) t = t.slice(0, q); // mailto:a@b?subject=...
  const at = t.lastIndexOf('@');
  if (at < 0) return;
  for (let i = t.indexOf('@'), prev = 0; i >= 0 && i < at; prev = i + 1, i = t.indexOf('@', i + 1)) {
    const next = t.indexOf('@', i + 1);
    push(out, t.slice(prev, i).replace(/^[@:]+/, ''), t.slice(i + 1, next));
  }
  push(out, t.slice(0, at).replace(/^[@:]+/, ''), t.slice(at + 1));
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
    if (token.includes('@')) addressesFrom(token, out);
  }
  return out;
}
