/**
 * Percent-decoding for the normalised view: `%XX` sequences decoded code point by code point
 * (UTF-8 checked as Unicode's table 3-7 has it); a sequence that is not UTF-8 stays as written.
 */
import type { Builder } from './normalised-view.js';
import { fold } from './unicode-fold.js';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The byte `%XX` at `i` encodes, or -1. */
export function percentByte(s: string, i: number): number {
  if (i + 2 >= s.length || s.charCodeAt(i) !== 37) return -1;
  const h = hexValue(s.charCodeAt(i + 1));
  const l = hexValue(s.charCodeAt(i + 2));
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

/** Length of the well-formed UTF-8 sequence starting with byte `b0` (Unicode table 3-7), or 0. */
function utf8Length(b0: number): number {
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return 2;
  if (b0 >= 0xe0 && b0 <= 0xef) return 3;
  if (b0 >= 0xf0 && b0 <= 0xf4) return 4;
  return 0;
}

function continuationOk(b0: number, k: number, b: number): boolean {
  if (k === 1) {
    if (b0 === 0xe0) return b >= 0xa0 && b <= 0xbf;
    if (b0 === 0xed) return b >= 0x80 && b <= 0x9f;
    if (b0 === 0xf0) return b >= 0x90 && b <= 0xbf;
    if (b0 === 0xf4) return b >= 0x80 && b <= 0x8f;
  }
  return b >= 0x80 && b <= 0xbf;
}

/** Decodes the `%XX` sequence at `i` code point by code point; returns where it ends. */
export function percentRun(s: string, i: number, out: Builder): number {
  let p = i;
  for (;;) {
    const b0 = percentByte(s, p);
    if (b0 < 0) return p;
    const len = utf8Length(b0);
    let cp = len === 1 ? b0 : len === 2 ? b0 & 0x1f : len === 3 ? b0 & 0x0f : b0 & 0x07;
    let ok = len > 0;
    for (let k = 1; ok && k < len; k++) {
      const b = percentByte(s, p + 3 * k);
      ok = b >= 0 && continuationOk(b0, k, b);
      cp = (cp << 6) | (b & 0x3f);
    }
    if (!ok) {
      // Not UTF-8 (a lone `%FF`, a cut sequence): kept as written.
      out.copy(p, p + 3);
      p += 3;
      continue;
    }
    out.unit(fold(cp), p, p + 3 * len);
    p += 3 * len;
  }
}

export function hasPercentByte(s: string): boolean {
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 1)) if (percentByte(s, i) >= 0) return true;
  return false;
}
