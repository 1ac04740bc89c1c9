/**
 * The one sanitiser for text that reaches a terminal from a trail, a query API or a file name
 * (`report`, `check`, `policy test`, `verify`). Values in a trail are chosen by whoever wrote
 * the record: as themselves, control characters would move the cursor, erase or hide a line
 * (`\r\x1b[2K` ... `PASS`), and bidi controls would reorder what is shown. Each is printed as
 * its `\uXXXX` escape instead, so it is visible and cannot act.
 *
 * Escaped: C0 controls (U+0000-U+001F, newline and tab included: one value is one line), DEL and
 * the C1 controls (U+007F-U+009F; U+009B is a one-byte CSI to some terminals), the bidi
 * controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the line and paragraph
 * separators U+2028, U+2029 (some terminals and viewers break lines at them).
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text of several lines made by a formatter: each line is made printable, the formatter's own
 * line breaks kept. A safety net under per-value `printable`: a value that slipped through
 * unescaped still cannot drive the terminal (only its newlines would survive, hence both).
 */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** `s` cut to `max` characters with `…`, after it is made printable (an escape counts its length). */
export function printableCut(s: string, max: number): string {
  const t = printable(s);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
