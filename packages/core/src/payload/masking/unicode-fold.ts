/**
 * Unicode folding for the normalised view: NFKC (full-width and other compatibility forms) and
 * removal of the characters rendered as nothing (zero-width spaces and joiners, bidi controls).
 */
import type { Builder } from './normalised-view.js';

/**
 * Unicode's Default_Ignorable_Code_Point set: zero-width spaces and joiners, bidi controls,
 * soft hyphen, variation selectors, tags, fillers. Rendered as nothing, so they split a word
 * for a pattern without changing what a reader sees.
 */
export function isInvisible(cp: number): boolean {
  if (cp < 0x2000) {
    return cp === 0xad || cp === 0x34f || cp === 0x61c || cp === 0x115f || cp === 0x1160 || cp === 0x17b4 || cp === 0x17b5 || (cp >= 0x180b && cp <= 0x180f);
  }
  if (cp <= 0x206f) return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || cp >= 0x2060;
  if (cp < 0xfe00) return cp === 0x3164;
  if (cp <= 0xffff) return cp <= 0xfe0f || cp === 0xfeff || cp === 0xffa0 || (cp >= 0xfff0 && cp <= 0xfff8);
  return (cp >= 0x1bca0 && cp <= 0x1bca3) || (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0000 && cp <= 0xe0fff);
}

// NFKC of one code point, cached: text in one script repeats a few thousand characters.
const foldCache = new Map<number, string>();
const FOLD_CACHE_LIMIT = 8192;

/** One code point as the detectors should see it: '' when invisible, else its NFKC form. */
export function fold(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  let f = foldCache.get(cp);
  if (f === undefined) {
    f = isInvisible(cp) ? '' : String.fromCodePoint(cp).normalize('NFKC');
    if (foldCache.size >= FOLD_CACHE_LIMIT) foldCache.clear();
    foldCache.set(cp, f);
  }
  return f;
}

/** Non-ASCII characters [i, j): copied when NFKC and invisible removal leave them alone. */
export function unicodeRun(s: string, i: number, j: number, out: Builder): void {
  const run = s.slice(i, j);
  let clean = run.normalize('NFKC') === run;
  if (clean) {
    for (let k = 0; k < run.length; k++) {
      const c = run.charCodeAt(k);
      // Every invisible code point is U+00AD, in U+0300-U+3164, U+FE00-U+FFF8, or astral.
      if (c === 0xad || (c >= 0x34f && c <= 0x3164) || c >= 0xd800) {
        const cp = run.codePointAt(k) as number;
        if (isInvisible(cp)) {
          clean = false;
          break;
        }
        if (cp > 0xffff) k++;
      }
    }
  }
  if (clean) return out.copy(i, j);
  for (let k = i; k < j; ) {
    const cp = s.codePointAt(k) as number;
    const w = cp > 0xffff ? 2 : 1;
    const f = cp >= 0xd800 && cp <= 0xdfff ? s[k] as string : fold(cp); // a lone surrogate stays
    if (f === s.slice(k, k + w)) out.copy(k, k + w);
    else out.unit(f, k, k + w);
    k += w;
  }
}

/** Any character above 0x7F: UTF-8 longer than the string (counted natively, ~15x a regex). */
export function nonAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') !== s.length;
}

/** The same set as isInvisible(), as V8 compiles it: the fastest whole-string test measured. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/**
 * Non-ASCII text that the full pass would leave as it is: already NFKC, nothing invisible.
 * Two native scans, several times cheaper than the pass (accented prose, most CJK).
 */
export function settled(s: string): boolean {
  return !INVISIBLE.test(s) && s.normalize('NFKC') === s;
}
