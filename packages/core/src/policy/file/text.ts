/**
 * The text a fact is read from: percent-encoding undone (repeatedly: `%2540` is `%40` is `@`),
 * compatibility forms folded (NFKC: full-width `＠` is `@`), and characters that render as
 * nothing removed (a zero-width space cannot split or hide an address).
 */

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
const MAX_DECODE_ROUNDS = 4;

function decodeRun(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    // Not UTF-8 as a whole: byte by byte, ASCII only; the rest stays as written.
    return run.replace(/%([0-7][0-9A-Fa-f])/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

export function percentDecode(s: string): string {
  let out = s;
  for (let i = 0; i < MAX_DECODE_ROUNDS && out.includes('%'); i++) {
    const next = out.replace(PERCENT_RUN, decodeRun);
    if (next === out) break;
    out = next;
  }
  return out;
}

const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(commat|period|colon|sol|percnt));?/g;
const NAMED: Record<string, string> = { commat: '@', period: '.', colon: ':', sol: '/', percnt: '%' };

/** HTML character references (`&#64;`, `&#x40;`, `&commat;`): what a mail or web client renders. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (m, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name] ?? m;
    const cp = dec !== undefined ? parseInt(dec, 10) : parseInt(hex as string, 16);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** NFKC and invisible removal; ASCII text (the common case) is returned untouched. */
export function foldText(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(s)) return s;
  return s.normalize('NFKC').replace(INVISIBLE, '');
}

// JSON and JavaScript string escapes: `\u0040` is `@` once a tool parses the JSON it was handed.
const ESCAPE = /\\(?:u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|([tnr/]))/g;
const HAS_ESCAPE = /\\(?:u\{?[0-9A-Fa-f]|x[0-9A-Fa-f]{2}|[tnr/])/;
const SIMPLE: Record<string, string> = { t: '\t', n: '\n', r: '\r', '/': '/' };

/** Whether `s` has a JSON/JavaScript string escape a tool that parses it would undo. */
export function hasEscapes(s: string): boolean {
  return s.includes('\\') && HAS_ESCAPE.test(s);
}

/** `s` with JSON/JavaScript string escapes undone (`\u0040` `\x40` `\u{40}` `\t` `\/`). */
export function unescapeJs(s: string): string {
  return s.replace(ESCAPE, (m, braced: string | undefined, u: string | undefined, x: string | undefined, c: string | undefined) => {
    if (c !== undefined) return SIMPLE[c] ?? m;
    const cp = parseInt((braced ?? u ?? x) as string, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** The view emails are read from: decoded, folded, and decoded again (a folded `％40`). */
export function normaliseForFacts(s: string): string {
  let out = foldText(decodeEntities(percentDecode(s)));
  if (out.includes('%') || out.includes('&')) out = foldText(decodeEntities(percentDecode(out)));
  return out;
}

/**
 * `s` without trailing characters in `chars`. A loop, not `/[...]+$/`: that regex tries every
 * start in a long run (`a.....x`) and is quadratic on hostile input.
 */
export function trimEndChars(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s.charAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** `s` without leading and trailing C0 controls and spaces (what the WHATWG URL parser drops). */
export function trimControls(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
