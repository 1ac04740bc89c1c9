import { DECIMAL, base64, signed64 } from './json-fields.js';
import { type JsonScan, giveUp } from './json-scan.js';
import { AttrText, doubleJson, int64Json, uint64Digits } from './line-text.js';

/**
 * The OTLP/JSON fast path's values (json-fast-lines.ts): attributes, AnyValues and scalars, each
 * taken only in the form whose stored text is known without normalising it through the reference
 * decoder's objects; any other form gives up (the reference decoder answers).
 */

export const QUOTE = 0x22;

/** Marks a field read; read twice, the request is the reference's (JSON.parse keeps the last). */
export function once(seen: number, bit: number): number {
  if (seen & bit) giveUp();
  return seen | bit;
}

/** The JSON texts of a list's items, joined with commas. */
export function list(s: JsonScan, item: (s: JsonScan) => string): string {
  if (!s.arr()) return '';
  let out = item(s);
  while (s.moreItems()) out += `,${item(s)}`;
  return out;
}

/** A KeyValue list. */
export function attributes(s: JsonScan, depth: number): AttrText {
  const out = new AttrText();
  if (!s.arr()) return out;
  do {
    let key = '';
    let keyText: string | undefined = '"":';
    let value = 'null';
    let seen = 0;
    if (s.obj()) {
      do {
        const k = s.key();
        if (k === 'key') {
          seen = once(seen, 1);
          s.str();
          key = s.text();
          // Unescaped, the key's bytes are its JSON text (json-scan.ts).
          keyText = s.esc === 0 ? `${s.t.slice(s.s0 - 1, s.s1 + 1)}:` : undefined;
        } else if (k === 'value') (seen = once(seen, 2)), (value = anyValue(s, depth));
        else s.skip();
      } while (s.more());
    }
    out.set(key, value, keyText);
  } while (s.moreItems());
  return out;
}

/** Short of the reference decoder's nesting limit (MAX_VALUE_DEPTH): the edge is its to answer. */
const FAST_DEPTH = 32;

/** An AnyValue with one member (or none: null), as JSON text. */
function anyValue(s: JsonScan, depth: number): string {
  if (depth > FAST_DEPTH) giveUp();
  if (!s.obj()) return 'null';
  let out: string;
  const k = s.key();
  if (k === 'stringValue') out = stringJson(s);
  else if (k === 'boolValue') out = s.bool() ? 'true' : 'false';
  else if (k === 'intValue') out = int64(s);
  else if (k === 'doubleValue') out = double(s);
  else if (k === 'arrayValue') out = `[${values(s, () => list(s, (x) => anyValue(x, depth + 1)), '')}]`;
  else if (k === 'kvlistValue') out = values(s, () => attributes(s, depth + 1).json(), '{}');
  else if (k === 'bytesValue') out = JSON.stringify(base64(string(s), ''));
  else return giveUp();
  // A second member: the reference decoder's precedence between members decides.
  if (s.more()) giveUp();
  return out;
}

/** The `values` of an ArrayValue or KeyValueList (the only member taken). */
function values(s: JsonScan, read: () => string, empty: string): string {
  if (!s.obj()) return empty;
  if (s.key() !== 'values') giveUp();
  const out = read();
  if (s.more()) giveUp();
  return out;
}

export function string(s: JsonScan): string {
  s.str();
  return s.text();
}

export function stringJson(s: JsonScan): string {
  s.str();
  return s.json();
}

/** Checked on the body's bytes: a regex call per id cost more than the loop (two ids per span). */
export function hexId(s: JsonScan, length: number): string {
  const v = s.raw();
  if (v.length !== length) giveUp();
  const b = s.b;
  let upper = false;
  for (let i = s.s0; i < s.s1; i++) {
    const c = b[i]!;
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
    if (c >= 0x41 && c <= 0x46) upper = true;
    else giveUp();
  }
  return upper ? v.toLowerCase() : v;
}

/** A small unsigned JSON number (below 10^9, so a uint32); anything else is the reference's. */
export function uint32(s: JsonScan): number {
  const n = s.num();
  if (!n.int || n.text.length > 9 || n.text.charCodeAt(0) === 0x2d) giveUp();
  return Number(n.text);
}

/** A uint64 from a decimal string (the reference's digits), or a number a double holds exactly. */
export function uint64(s: JsonScan): string {
  if (s.peek() === QUOTE) {
    const v = s.raw();
    if (CANONICAL_U64.test(v)) return v;
    // Leading zeros, 20 digits, out of range: what the reference does (a refusal hands on).
    return DECIMAL.test(v) ? uint64Digits(v, '') : giveUp();
  }
  const n = s.num();
  if (!n.int || n.text.length > 15 || n.text.charCodeAt(0) === 0x2d) giveUp();
  return n.text;
}

const CANONICAL_U64 = /^(?:0|[1-9]\d{0,18})$/;
const CANONICAL_SAFE = /^(?:0|-?[1-9]\d{0,14})$/;

/** An int64: exact as a double and written as it came, or a decimal string past 2^53 (then BigInt). */
export function int64(s: JsonScan): string {
  if (s.peek() === QUOTE) {
    const v = s.raw();
    if (CANONICAL_SAFE.test(v)) return v;
    return DECIMAL.test(v) ? int64Json(signed64(BigInt(v), '')) : giveUp();
  }
  const text = s.num().text;
  return CANONICAL_SAFE.test(text) ? text : giveUp();
}

function double(s: JsonScan): string {
  if (s.peek() === QUOTE) giveUp();
  return doubleJson(Number(s.num().text));
}

export function enumValue(s: JsonScan, names: Record<string, number>, max: number): number {
  if (s.peek() === QUOTE) {
    const v = s.raw();
    return Object.hasOwn(names, v) ? names[v]! : giveUp();
  }
  const n = s.num();
  if (!n.int || n.text.length !== 1 || Number(n.text) > max) giveUp();
  return Number(n.text);
}
