/**
 * Normalisation before scanning: the text a secret hides in when it is percent-encoded,
 * written in full-width forms, split by zero-width characters or base64-encoded, folded back
 * to what the detectors know. The scanner runs its detectors on this view as well as on the
 * original, and every region found in the view is mapped back to the original characters it
 * came from (a whole `%XX` sequence, a whole base64 run), which are masked.
 */
import { BASE64_MIN_RUN, base64TextRuns, findRun } from './base64-text.js';

/** Nested base64 (a blob inside a blob) is decoded this deep, no deeper. */
const MAX_DEPTH = 2;

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
function fold(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  let f = foldCache.get(cp);
  if (f === undefined) {
    f = isInvisible(cp) ? '' : String.fromCodePoint(cp).normalize('NFKC');
    if (foldCache.size >= FOLD_CACHE_LIMIT) foldCache.clear();
    foldCache.set(cp, f);
  }
  return f;
}

/**
 * A normalised text and where each of its characters came from. Segments: a run of characters
 * copied as they were (mapped one to one), or the replacement of one encoded unit (every
 * character of it maps to the whole unit).
 */
export class View {
  constructor(
    readonly text: string,
    private readonly segView: readonly number[],
    private readonly segSrc: readonly number[],
    /** End of the unit in the source; -1 for a copied run. */
    private readonly segEnd: readonly number[],
    /** The view this one was built from, when it is not the original text. */
    private readonly parent: View | undefined,
  ) {}

  /** The span of the original text that view characters [start, end) came from. */
  toSource(start: number, end: number): [number, number] {
    let a = this.locate(start, false);
    let b = this.locate(end - 1, true);
    if (this.parent !== undefined) [a, b] = this.parent.toSource(a, b);
    return [a, b];
  }

  private locate(v: number, end: boolean): number {
    let lo = 0;
    let hi = this.segView.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segView[mid] as number) <= v) lo = mid;
      else hi = mid - 1;
    }
    const unitEnd = this.segEnd[lo] as number;
    if (unitEnd === -1) return (this.segSrc[lo] as number) + (v - (this.segView[lo] as number)) + (end ? 1 : 0);
    return end ? unitEnd : (this.segSrc[lo] as number);
  }
}

class Builder {
  private readonly parts: string[] = [];
  private length = 0;
  private copiedTo = -1;
  readonly segView: number[] = [];
  readonly segSrc: number[] = [];
  readonly segEnd: number[] = [];
  changed = false;

  constructor(private readonly src: string) {}

  /** Source characters [from, to) as they are. */
  copy(from: number, to: number): void {
    if (to <= from) return;
    if (this.copiedTo !== from) {
      this.segView.push(this.length);
      this.segSrc.push(from);
      this.segEnd.push(-1);
    }
    this.parts.push(this.src.slice(from, to));
    this.length += to - from;
    this.copiedTo = to;
  }

  /** Source characters [from, to) replaced by `text` ('' drops them). */
  unit(text: string, from: number, to: number): void {
    this.changed = true;
    if (text.length === 0) return;
    this.segView.push(this.length);
    this.segSrc.push(from);
    this.segEnd.push(to);
    this.parts.push(text);
    this.length += text.length;
    this.copiedTo = -1;
  }

  view(parent: View | undefined): View {
    return new View(this.parts.join(''), this.segView, this.segSrc, this.segEnd, parent);
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The byte `%XX` at `i` encodes, or -1. */
function percentByte(s: string, i: number): number {
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
function percentRun(s: string, i: number, out: Builder): number {
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

/** Non-ASCII characters [i, j): copied when NFKC and invisible removal leave them alone. */
function unicodeRun(s: string, i: number, j: number, out: Builder): void {
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

/** Percent-decoding, NFKC folding and invisible removal in one pass; undefined when nothing changed. */
function unicodePass(s: string, parent: View | undefined): View | undefined {
  const out = new Builder(s);
  const n = s.length;
  let plain = 0;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 37 && percentByte(s, i) >= 0) {
        out.copy(plain, i);
        i = plain = percentRun(s, i, out);
      } else i++;
      continue;
    }
    let j = i + 1;
    while (j < n && s.charCodeAt(j) >= 0x80) j++;
    out.copy(plain, i);
    unicodeRun(s, i, j, out);
    i = plain = j;
  }
  out.copy(plain, n);
  return out.changed ? out.view(parent) : undefined;
}

/**
 * Base64 runs that decode to text, replaced by that text. Nested forms (base64 of base64, of
 * percent-encoded text) follow it on a line of their own: the whole unit maps to the run, and
 * the decoded text stays as it was for detectors that need it so (a JWT's segments are base64).
 */
function base64Pass(s: string, parent: View | undefined, depth: number): View | undefined {
  const runs = base64TextRuns(s);
  if (runs === undefined) return undefined;
  const out = new Builder(s);
  let pos = 0;
  for (const [start, end, text] of runs) {
    out.copy(pos, start);
    let unit = text;
    if (depth < MAX_DEPTH) {
      const nested = normalisedViews(text, depth + 1);
      for (const v of nested ?? []) unit += `\n${v.text}`;
    }
    out.unit(unit, start, end);
    pos = end;
  }
  out.copy(pos, s.length);
  return out.view(parent);
}

/** Any character above 0x7F: UTF-8 longer than the string (counted natively, ~15x a regex). */
function nonAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') !== s.length;
}

/** The same set as isInvisible(), as V8 compiles it: the fastest whole-string test measured. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/**
 * Non-ASCII text that the full pass would leave as it is: already NFKC, nothing invisible.
 * Two native scans, several times cheaper than the pass (accented prose, most CJK).
 */
function settled(s: string): boolean {
  return !INVISIBLE.test(s) && s.normalize('NFKC') === s;
}

function hasPercentByte(s: string): boolean {
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 1)) if (percentByte(s, i) >= 0) return true;
  return false;
}

/**
 * The cheap test first: ordinary ASCII prose has no `%XX`, no character above 0x7F and no
 * long base64 run, and is never copied. `noRun`: a spaceless-run length the gates already
 * found absent (no run of 15 non-spaces, no base64 run of 15).
 */
export function mayNeedNormalising(s: string, noRun = Infinity): boolean {
  return nonAscii(s) || hasPercentByte(s) || (noRun > BASE64_MIN_RUN && findRun(s, 0) !== -1);
}

/**
 * The normalised views of `s`, or undefined when there is none: the percent-decoded, folded
 * text (when it differs), and that text with its base64 runs decoded (when it has any). Both
 * are scanned: a detector may need a run as it is (`Basic <base64>`) or decoded.
 */
export function normalisedViews(s: string, depth = 0): View[] | undefined {
  const unicode = hasPercentByte(s) || (nonAscii(s) && !settled(s)) ? unicodePass(s, undefined) : undefined;
  const text = unicode?.text ?? s;
  const decoded = findRun(text, 0) !== -1 ? base64Pass(text, unicode, depth) : undefined;
  if (unicode === undefined) return decoded === undefined ? undefined : [decoded];
  return decoded === undefined ? [unicode] : [unicode, decoded];
}

/** The text of the most normalised view (the last), or `s`. */
export function normaliseText(s: string): string {
  const views = normalisedViews(s);
  return views === undefined ? s : (views[views.length - 1] as View).text;
}

/** A property name as the key-name rules read it: percent-decoded, NFKC-folded, invisibles gone. */
export function normaliseKey(key: string): string {
  if (!nonAscii(key) && !hasPercentByte(key)) return key;
  return unicodePass(key, undefined)?.text ?? key;
}
