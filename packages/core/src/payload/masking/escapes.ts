/**
 * Character escapes for the normalised view: HTML/XML character references (`&#64;`, `&#x40;`,
 * `&commat;`) and the backslash escapes of JSON and JavaScript text that did not parse (`\u0040`,
 * `\x40`). A secret written with them reads as plain text to a browser or a JSON reader, so the
 * detectors read it so too.
 */

/** The named references that spell characters detectors care about (HTML's names). */
const NAMED: ReadonlyMap<string, number> = new Map([
  ['amp', 38], ['lt', 60], ['gt', 62], ['quot', 34], ['apos', 39], ['nbsp', 0xa0],
  ['commat', 64], ['period', 46], ['colon', 58], ['sol', 47], ['bsol', 92], ['equals', 61],
  ['plus', 43], ['lowbar', 95], ['hyphen', 45], ['dash', 0x2010], ['num', 35], ['dollar', 36],
  ['percnt', 37], ['excl', 33], ['quest', 63], ['semi', 59], ['comma', 44], ['lpar', 40],
  ['rpar', 41], ['lsqb', 91], ['rsqb', 93], ['lcub', 123], ['rcub', 125], ['ast', 42],
  ['tilde', 126], ['verbar', 124], ['grave', 96], ['Hat', 94], ['NewLine', 10], ['Tab', 9],
]);

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** `len` hex digits at `i` as a number, or -1. */
function hexAt(s: string, i: number, len: number): number {
  if (i + len > s.length) return -1;
  let v = 0;
  for (let k = 0; k < len; k++) {
    const h = hexDigit(s.charCodeAt(i + k));
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

const isScalar = (cp: number): boolean => cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);

/**
 * The code point the escape at `i` stands for and its length, as [cp, length], or undefined.
 * `&` starts a character reference, `\` a backslash escape; anything else is no escape.
 */
export function escapeAt(s: string, i: number): [number, number] | undefined {
  const c = s.charCodeAt(i);
  if (c === 38) return referenceAt(s, i);
  if (c === 92) return backslashAt(s, i);
  return undefined;
}

function referenceAt(s: string, i: number): [number, number] | undefined {
  if (s.charCodeAt(i + 1) === 35 /* # */) {
    const hex = (s.charCodeAt(i + 2) | 0x20) === 120; /* x */
    let j = i + (hex ? 3 : 2);
    let cp = 0;
    const from = j;
    for (; j < s.length && j - from < 8; j++) {
      const d = hex ? hexDigit(s.charCodeAt(j)) : s.charCodeAt(j) - 48;
      if (d < 0 || d > (hex ? 15 : 9)) break;
      cp = cp * (hex ? 16 : 10) + d;
    }
    // The `;` may be left out in HTML; a digit run must be there.
    if (j === from || !isScalar(cp)) return undefined;
    return [cp, j - i + (s.charCodeAt(j) === 59 ? 1 : 0)];
  }
  let j = i + 1;
  while (j < s.length && j - i <= 9 && isAsciiLetter(s.charCodeAt(j))) j++;
  if (s.charCodeAt(j) !== 59 || j === i + 1) return undefined;
  const cp = NAMED.get(s.slice(i + 1, j));
  return cp === undefined ? undefined : [cp, j + 1 - i];
}

function backslashAt(s: string, i: number): [number, number] | undefined {
  const kind = s.charCodeAt(i + 1);
  if (kind === 120 /* x */) {
    const v = hexAt(s, i + 2, 2);
    return v < 0 ? undefined : [v, 4];
  }
  if (kind !== 117 /* u */) return undefined;
  const hi = hexAt(s, i + 2, 4);
  if (hi < 0) return undefined;
  if (hi >= 0xd800 && hi <= 0xdbff && s.charCodeAt(i + 6) === 92 && s.charCodeAt(i + 7) === 117) {
    const lo = hexAt(s, i + 8, 4);
    if (lo >= 0xdc00 && lo <= 0xdfff) return [0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00), 12];
  }
  return isScalar(hi) ? [hi, 6] : undefined;
}

const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Whether `s` holds any escape escapeAt() decodes; `&` and `\` are rare in ordinary text. */
export function hasEscape(s: string): boolean {
  for (let i = s.indexOf('&'); i !== -1; i = s.indexOf('&', i + 1)) if (referenceAt(s, i) !== undefined) return true;
  for (let i = s.indexOf('\\'); i !== -1; i = s.indexOf('\\', i + 1)) if (backslashAt(s, i) !== undefined) return true;
  return false;
}
