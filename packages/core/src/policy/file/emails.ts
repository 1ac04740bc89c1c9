/**
 * Email addresses in a string, the way a domain rule must see them. A recipient field is a
 * list (`a@x, b@y; <c@z>`), may carry display names, comments, encodings and look-alike
 * characters; every address in it becomes a fact, so one outside address among inside ones,
 * or `x@example.com.evil.io`, cannot pass a rule on the domain.
 */
import { domainToASCII } from 'node:url';
import { Email } from './fact-classes.js';
import { hasEscapes, normaliseForFacts, trimEndChars, unescapeJs } from './text.js';

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
const TRAILING = '.:!?';

/** Lower-cased, trailing dots removed, IDN to punycode; a name IDNA refuses stays as written (lower-cased). */
export function normaliseDomain(raw: string): string {
  const d = trimEndChars(raw.toLowerCase(), '.');
  if (d === '') return d;
  // ASCII letters, digits, dots and hyphens need no IDNA pass (and it is the costly part).
  if (/^[a-z0-9.-]+$/.test(d)) return d;
  const ascii = domainToASCII(d);
  return ascii === '' ? d : trimEndChars(ascii, '.');
}

/** Where a domain's host name ends: a port, a bang path, junk a lenient parser drops. */
const HOST_END = /[^a-z0-9._\-\u0080-\uffff]/;

/** One address, and (with `route`) the next hop of a source route in its local part: one hop only. */
function push(out: Email[], local: string, rawDomain: string, route = true): void {
  const domain = normaliseDomain(rawDomain);
  if (domain === '') return;
  out.push(new Email(`${local}@${domain}`, local, domain));
  // `evil.io:25`, `evil.io!x`: also the host name before the junk (a deny-list names that).
  const cut = domain.search(HOST_END);
  if (cut > 0) {
    const host = normaliseDomain(domain.slice(0, cut));
    if (host !== '') out.push(new Email(`${local}@${host}`, local, host));
  }
  // Source routing in the local part, which a relay that honours it forwards on:
  // `mallory%evil.io@example.com` (the percent hack) and `evil.io!mallory@example.com` (UUCP).
  if (!route) return;
  const pct = local.lastIndexOf('%');
  if (pct > 0 && pct < local.length - 1) push(out, local.slice(0, pct), local.slice(pct + 1), false);
  const bang = local.indexOf('!');
  if (bang > 0) push(out, local.slice(bang + 1), local.slice(0, bang), false);
}

/**
 * The addresses of one token. The last `@` decides where a strict mailer sends
 * (`a@example.com@evil.io`, `@example.com:a@evil.io`); a lenient one may stop at the first, so
 * the domain after every `@` is a fact (`a@evil.io#@example.com` names evil.io as well).
 */
function addressesFrom(token: string, out: Email[]): void {
  let t = trimEndChars(token, TRAILING);
  if (t.toLowerCase().startsWith('mailto:')) t = t.slice(7);
  const q = t.indexOf('?');
  if (q >= 0) {
    // mailto:a@b?cc=c@d&bcc=e@f: the query's recipients get the mail too.
    for (const part of t.slice(q + 1).split(/[&=]/)) if (part.includes('@')) addressesFrom(part, out);
    t = t.slice(0, q);
  }
  const at = t.lastIndexOf('@');
  if (at < 0) return;
  for (let i = t.indexOf('@'), prev = 0; i >= 0 && i < at; prev = i + 1, i = t.indexOf('@', i + 1)) {
    const next = t.indexOf('@', i + 1);
    push(out, t.slice(prev, i).replace(/^[@:]+/, ''), t.slice(i + 1, next));
  }
  push(out, t.slice(0, at).replace(/^[@:]+/, ''), t.slice(at + 1));
}

function tokens(view: string, out: Email[]): void {
  for (const token of view.split(SEPARATORS)) {
    if (token.includes('@')) addressesFrom(token, out);
  }
}

/**
 * Space around each `@` removed. Split and trim, not a regex of optional blanks, an `@` and
 * optional blanks: that scans a whole run of blanks at every position of it (seconds for a long run).
 */
function closeAroundAt(s: string): string {
  if (!/\s@|@\s/.test(s)) return s;
  const parts = s.split('@');
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i] as string;
    if (i > 0) p = p.trimStart();
    if (i < parts.length - 1) p = p.trimEnd();
    parts[i] = p;
  }
  return parts.join('@');
}

/** RFC 5322 comments, innermost first: `bob@(x)evil.io` is bob@evil.io to a mailer. */
function withoutComments(s: string): string {
  let out = s;
  for (let i = 0; i < 8 && out.includes('('); i++) {
    const next = out.replace(/\([^()]*\)/g, ' ');
    if (next === out) break;
    out = next;
  }
  return out;
}

/** `@[192.0.2.1]`, `@[IPv6:2001:db8::1]`, `@[evil.io]`: a domain literal is where the mail goes. */
const LITERAL = /@\[(?:ipv6:)?([^\]\s]+)\]/gi;
const LOCAL_END = ' \t\r\n<>(),;:"\'`[]@';
/** Obsolete syntax allows space before a dot in a domain: `mallory@evil .io`. */
// Anchored at the `@` (a lookbehind first would rescan the word back at every position).
const SPACE_DOT = /(@[^\s@<>(),;"'`]*[A-Za-z0-9-])\s+(?=\.[A-Za-z0-9])/g;

/** The readings a mailer's parser makes beyond the plain split: comments, literals, obsolete spacing. */
function lenient(view: string, out: Email[]): void {
  let v = view.includes('(') ? closeAroundAt(withoutComments(view)) : view;
  // Each pass closes one gap per domain (`a@evil .io .com` takes two).
  for (let i = 0; i < 4; i++) {
    const next = v.replace(SPACE_DOT, '$1');
    if (next === v) break;
    v = next;
  }
  if (v !== view) tokens(v, out);
  if (v.includes('@[')) {
    for (const m of v.matchAll(LITERAL)) {
      // The local part: back from the `@` to a separator (a bounded look, not a regex group
      // before the `@`, which would rescan a long run at every start).
      let from = m.index;
      while (from > 0 && m.index - from < 256 && !LOCAL_END.includes(v.charAt(from - 1))) from--;
      const local = v.slice(from, m.index);
      const lit = (m[1] as string).toLowerCase();
      const domain = lit.includes(':') ? lit : normaliseDomain(lit);
      if (domain !== '') out.push(new Email(`${local}@${domain}`, local, domain));
    }
  }
}

/** RFC 2047 encoded-words (`=?utf-8?q?a=40evil.io?=`): some mail systems decode them in an address. */
const ENCODED_WORD = /=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=/g;

function decodeEncodedWords(s: string): string {
  return s.replace(ENCODED_WORD, (_m, charset: string, enc: string, text: string) => {
    const bytes =
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    const cs = charset.toLowerCase().replace(/\*.*$/, '');
    if (cs === 'utf-7') return decodeUtf7(bytes.toString('latin1'));
    return cs === 'utf-8' || cs === 'utf8' ? bytes.toString('utf8') : bytes.toString('latin1');
  });
}

/** UTF-7 (`+AEA-` is `@`), and IMAP's variant (`&AEA-`), which decoders also accept. */
function decodeUtf7(s: string): string {
  return s.replace(/[+&]([A-Za-z0-9+/,]*)-?/g, (m, b64: string) => {
    if (b64 === '') return m.startsWith('+') ? '+' : '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
    return out;
  });
}

const MAYBE_EMAIL = /[@%&\\]|=\?|[^\x00-\x7f]/;

/** Every address in `text`, in order; then the further readings a lenient mailer makes. */
export function emailsIn(text: string): Email[] {
  if (!MAYBE_EMAIL.test(text)) return [];
  const first = normaliseForFacts(text);
  // Views a tool or mail system may decode first: JSON/JavaScript escapes, RFC 2047 words.
  const views = [first];
  if (hasEscapes(first)) views.push(normaliseForFacts(unescapeJs(first)));
  for (const v of views.slice()) if (v.includes('=?')) views.push(normaliseForFacts(decodeEncodedWords(v)));
  const out: Email[] = [];
  const extra: Email[] = [];
  views.forEach((raw, i) => {
    if (!raw.includes('@')) return;
    // Obsolete RFC 5322 syntax allows space around the `@`: `bob @ evil.io` is an address.
    const view = closeAroundAt(raw);
    tokens(view, i === 0 ? out : extra);
    lenient(view, extra);
  });
  // An extra reading adds an address only when it is a new one.
  const seen = new Set(out.map((e) => e.address));
  for (const e of extra) {
    if (seen.has(e.address)) continue;
    seen.add(e.address);
    out.push(e);
  }
  return out;
}
