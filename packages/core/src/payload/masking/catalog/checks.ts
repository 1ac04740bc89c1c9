/**
 * Validators that turn "looks like" into "is": a checksum or a structural check run on a
 * pattern's match before it is masked. They keep order numbers, versions and prose visible.
 */
import { isIPv6 } from 'node:net';

/** Only the digits of `s`. */
export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) out += s[i];
  }
  return out;
}

/** The Luhn (mod 10) check used by payment card numbers. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A payment card number: 13 to 19 digits, separated (if at all) by one kind of separator,
 * starting like an issuer's range (2-6: Mastercard 2-series, Amex/Diners, Visa, Mastercard,
 * Discover/UnionPay), and passing Luhn.
 */
function cardValid(match: string): boolean {
  const digits = digitsOf(match);
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  const hasSpace = match.includes(' ');
  const hasDash = match.includes('-');
  if (hasSpace && hasDash) return false;
  return luhnValid(digits);
}

/**
 * Where the card number inside `match` is, or false. The pattern takes a whole separated digit
 * run, and a number written next to the card (a quantity before it, an expiry or CVV after it)
 * joins that run; so every run of whole groups is tried, longest first, then leftmost.
 */
export function cardMatch(match: string): { start: number; end: number } | false {
  if (cardValid(match)) return { start: 0, end: match.length };
  const groups: { start: number; end: number }[] = [];
  const re = /\d+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(match)) !== null) groups.push({ start: m.index, end: m.index + m[0].length });
  if (groups.length < 2) return false;
  let best: { start: number; end: number; digits: number } | undefined;
  for (let i = 0; i < groups.length; i++) {
    let digits = 0;
    for (let j = i; j < groups.length; j++) {
      const g = groups[j] as { start: number; end: number };
      digits += g.end - g.start;
      if (digits > 19) break;
      if (digits < 13 || (best !== undefined && best.digits >= digits)) continue;
      const start = (groups[i] as { start: number }).start;
      if (cardValid(match.slice(start, g.end))) best = { start, end: g.end, digits };
    }
  }
  return best === undefined ? false : { start: best.start, end: best.end };
}

/** IBAN length per country (ISO 13616 registry). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** An IBAN: known country, its length, and the ISO 7064 mod 97-10 checksum. */
export function ibanValid(match: string): boolean {
  const iban = match.replace(/ /g, '');
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected === undefined || iban.length !== expected) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    // Letters count as two digits (A = 10 ... Z = 35); folding digit by digit keeps numbers small.
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/**
 * A phone number, or the phone number at the start of `match`: a number written right after
 * it (`call 020 7946 0018 000 times`) joins the pattern's match, so shorter prefixes ending at
 * a group boundary are tried too.
 */
export function phoneMatch(match: string): { start: number; end: number } | false {
  if (phoneValid(match)) return { start: 0, end: match.length };
  for (let end = match.length - 1; end > 0; end--) {
    const c = match.charCodeAt(end);
    // Cut only at a separator that follows a digit: groups stay whole.
    if ((c === 32 || c === 45 || c === 46) && isDigit(match.charCodeAt(end - 1)) && phoneValid(match.slice(0, end))) return { start: 0, end };
  }
  return false;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * A phone number: at most 15 digits (E.164) and at least 9 (fewer is a short code, an
 * extension or noise; the text gate in front of this check needs nine digits), and a shape a
 * numbering plan has: a `+` country code, a North American number, or a national number with a
 * trunk 0 whose groups are laid out as real ones are.
 */
function phoneValid(match: string): boolean {
  const n = digitsOf(match).length;
  if (n < 9 || n > 15) return false;
  if (match.charCodeAt(0) === 43 /* + */) return true;
  if (match.charCodeAt(0) === 48 /* 0 */) return nationalValid(match, n);
  return n === 10 && nanpValid(digitsOf(match));
}

/**
 * North American 3-3-4: area code and exchange start with 2-9, an area code is never N11
 * (service codes) nor N9X (kept for expansion).
 */
function nanpValid(d: string): boolean {
  const a0 = d.charCodeAt(0) - 48;
  const a1 = d.charCodeAt(1) - 48;
  const a2 = d.charCodeAt(2) - 48;
  if (a0 < 2 || a1 === 9 || (a1 === 1 && a2 === 1)) return false;
  return d.charCodeAt(3) - 48 >= 2;
}

/**
 * A national number with a trunk 0: 9 to 11 digits, one kind of separator, and a layout in
 * use: the area code, then groups of three or four (`020 7946 0018`, `03-1234-5678`), which
 * may end in pairs of two (`06 12 34 56 78`, `02 123 45 67`). A two-digit group followed by a
 * longer one, a lone pair at the end, or dots around groups of four are references and
 * dates (`0123-4567-89`, `04.2025.118`), not numbers anyone dials.
 */
function nationalValid(match: string, n: number): boolean {
  if (n > 11) return false;
  const groups = match.split(/[ .-]/);
  const sep = match.charAt((groups[0] as string).length);
  for (let i = 0, at = 0; i < groups.length - 1; i++) {
    at += (groups[i] as string).length;
    if (match.charAt(at) !== sep) return false;
    at++;
  }
  let pairs = 0;
  for (let i = 1; i < groups.length; i++) {
    const len = (groups[i] as string).length;
    if (len === 2) pairs++;
    else if (pairs > 0) return false;
    if (sep === '.' && len > 3) return false;
  }
  return pairs !== 1;
}

/** An IPv6 address that is an address, not `::`, a time or a C++ scope operator. */
export function ipv6Valid(match: string): boolean {
  if (!isIPv6(match)) return false;
  const groups = match.split(':').filter((g) => g.length > 0);
  if (groups.length < 2) return false;
  let hex = 0;
  for (const g of groups) hex += g.length;
  return hex >= 4;
}

/**
 * ipv6Valid on a match, or on the match without a trailing single colon: the pattern's groups
 * end in `:`, so an address followed by `: ` (`connect 2001:db8::1: refused`, an error name
 * before its message) is matched with that colon and would fail as a whole.
 */
export function ipv6Match(match: string): boolean | { start: number; end: number } {
  if (ipv6Valid(match)) return true;
  if (match.endsWith(':') && !match.endsWith('::') && ipv6Valid(match.slice(0, -1))) return { start: 0, end: match.length - 1 };
  return false;
}

/** `Basic <base64>` whose payload decodes to printable `user:password`. */
export function basicAuthValid(token: string): boolean {
  if (token.length % 4 === 1) return false;
  const decoded = Buffer.from(token, 'base64').toString('latin1');
  if (decoded.length < 3 || !decoded.includes(':')) return false;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Mixed case and a digit: what a random key has and a word or a hex digest does not. */
export function looksRandom(s: string): boolean {
  let upper = false;
  let lower = false;
  let digit = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 97 && c <= 122) lower = true;
    else if (c >= 48 && c <= 57) digit = true;
  }
  return upper && lower && digit;
}

/** A bearer token has a digit or punctuation; `bearer instrument` in prose has neither. */
export function bearerValid(token: string): boolean {
  return /[0-9._~+/-]/.test(token);
}
