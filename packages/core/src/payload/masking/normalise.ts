/**
 * Normalisation before scanning: the text a secret hides in when it is percent-encoded
 * (once or more), written with character escapes (`&#64;`, `\u0040`), in full-width forms, split by zero-width characters or base64-encoded, folded back
 * to what the detectors know. The scanner runs its detectors on this view as well as on the
 * original, and every region found in the view is mapped back to the original characters it
 * came from (a whole `%XX` sequence, a whole base64 run), which are masked.
 */
import { BASE64_MIN_RUN, base64TextRuns, findRun } from './base64-text.js';
import { Builder, type View } from './normalised-view.js';
import { escapeAt, hasEscape } from './escapes.js';
import { hasPercentByte, percentByte, percentRun } from './percent-decode.js';
import { fold, nonAscii, settled, unicodeRun } from './unicode-fold.js';

export { isInvisible } from './unicode-fold.js';
export { View } from './normalised-view.js';

/** Nested base64 (a blob inside a blob) is decoded this deep, no deeper. */
const MAX_DEPTH = 2;
/** Percent-encoding and escapes applied more than once (`%2540`, `&amp;#64;`) are undone this many times. */
const MAX_DECODES = 3;

/** Percent-decoding, escapes, NFKC folding and invisible removal in one pass; undefined when nothing changed. */
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
        continue;
      }
      const e = c === 38 || c === 92 ? escapeAt(s, i) : undefined;
      if (e !== undefined) {
        out.copy(plain, i);
        out.unit(fold(e[0]), i, i + e[1]);
        i = plain = i + e[1];
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

/**
 * The cheap test first: ordinary ASCII prose has no `%XX`, no character above 0x7F and no
 * long base64 run, and is never copied. `noRun`: a spaceless-run length the gates already
 * found absent (no run of 15 non-spaces, no base64 run of 15).
 */
export function mayNeedNormalising(s: string, noRun = Infinity): boolean {
  return nonAscii(s) || hasPercentByte(s) || (noRun > BASE64_MIN_RUN && findRun(s, 0) !== -1) || hasEscape(s);
}

/** Whether the unicode pass would change `s`. */
function needsUnicodePass(s: string): boolean {
  return hasPercentByte(s) || (nonAscii(s) && !settled(s)) || hasEscape(s);
}

/** The unicode pass, again on its own output while that still holds an encoding (`%2540` -> `%40` -> `@`). */
function decodedView(s: string): View | undefined {
  if (!needsUnicodePass(s)) return undefined;
  let view = unicodePass(s, undefined);
  for (let k = 1; view !== undefined && k < MAX_DECODES && (hasPercentByte(view.text) || hasEscape(view.text)); k++) view = unicodePass(view.text, view) ?? view;
  return view;
}

/**
 * The normalised views of `s`, or undefined when there is none: the percent-decoded, folded
 * text (when it differs), and that text with its base64 runs decoded (when it has any). Both
 * are scanned: a detector may need a run as it is (`Basic <base64>`) or decoded.
 */
export function normalisedViews(s: string, depth = 0): View[] | undefined {
  const unicode = decodedView(s);
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
  return decodedView(key)?.text ?? key;
}
