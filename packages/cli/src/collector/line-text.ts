import { OtlpDecodeError } from './span-shape.js';

/**
 * JSON text of the values a stored line holds, built straight from the decoded request (no span
 * objects). Every function here gives the exact bytes `JSON.stringify` gave for the objects the
 * first decoders built (`span-shape.ts`): the stored lines are a contract, and the collector's
 * chain hashes their raw bytes.
 */

/** Attribute keys JavaScript orders first (ascending) in an object: canonical integers up to 2^32 - 2. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) <= 4294967294;
}

/** Past this many keys, duplicates are found with a Map rather than by scanning. */
const SCAN_KEYS = 16;

/**
 * Attributes as a JSON object: in the order received, a repeated key keeping its first place and
 * its last value, and integer-like keys first (what an object did). Values are JSON text.
 */
export class AttrText {
  private readonly keys: string[] = [];
  private readonly values: string[] = [];
  /** Each key's `"key":` text when the caller had it already (the fast path's raw bytes). */
  private readonly texts: (string | undefined)[] = [];
  private index: Map<string, number> | undefined;
  private integerKeys = false;

  get size(): number {
    return this.keys.length;
  }

  /** `keyText`: the key's `"key":` when known (what `JSON.stringify(key) + ':'` gives). */
  set(key: string, valueJson: string, keyText?: string): void {
    const at = this.find(key);
    if (at >= 0) {
      this.values[at] = valueJson;
      return;
    }
    this.keys.push(key);
    this.values.push(valueJson);
    this.texts.push(keyText);
    this.index?.set(key, this.keys.length - 1);
    if (!this.integerKeys) {
      const c = key.charCodeAt(0);
      if (c >= 48 && c <= 57 && isArrayIndex(key)) this.integerKeys = true;
    }
  }

  json(): string {
    const n = this.keys.length;
    if (n === 0) return '{}';
    let order: number[] | undefined;
    if (this.integerKeys) {
      const all = Array.from({ length: n }, (_, i) => i);
      const ints = all.filter((i) => isArrayIndex(this.keys[i]!)).sort((a, b) => Number(this.keys[a]) - Number(this.keys[b]));
      order = [...ints, ...all.filter((i) => !isArrayIndex(this.keys[i]!))];
    }
    let out = '{';
    for (let j = 0; j < n; j++) {
      const i = order ? order[j]! : j;
      out += `${j ? ',' : ''}${this.texts[i] ?? keyJson(this.keys[i]!)}${this.values[i]}`;
    }
    return `${out}}`;
  }

  private find(key: string): number {
    if (this.index) return this.index.get(key) ?? -1;
    if (this.keys.length < SCAN_KEYS) return this.keys.indexOf(key);
    this.index = new Map(this.keys.map((k, i) => [k, i]));
    return this.index.get(key) ?? -1;
  }
}

/** Attribute keys repeat in every span of a request: their JSON (`"key":`) is made once. */
const keyTexts = new Map<string, string>();
/** Bounded, so keys a sender makes up per span cannot grow it: past this, keys are not kept. */
const MAX_KEY_TEXTS = 4096;

function keyJson(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${JSON.stringify(key)}:`;
    if (keyTexts.size < MAX_KEY_TEXTS && key.length <= 128) keyTexts.set(key, text);
  }
  return text;
}

const MAX_UINT64_TEXT = '18446744073709551615';

/** A uint64 from its decimal digits (sign and leading zeros allowed): canonical digits, or a refusal. */
export function uint64Digits(s: string, what: string): string {
  let digits = s;
  const negative = digits.charCodeAt(0) === 45; // '-'
  if (negative) digits = digits.slice(1);
  if (digits.length > 1 && digits.charCodeAt(0) === 48) digits = digits.replace(/^0+(?=\d)/, '');
  if (negative && digits !== '0') throw rangeError(what, 'uint64');
  if (digits.length > 20 || (digits.length === 20 && digits > MAX_UINT64_TEXT)) throw rangeError(what, 'uint64');
  return digits;
}

/** The JSON text of an int64 attribute value: a number when exact, else a quoted decimal string. */
export function int64Json(v: bigint): string {
  return v >= MIN_SAFE && v <= MAX_SAFE ? String(Number(v)) : `"${v}"`;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The JSON text of a double attribute value: JSON has no NaN or Infinity, they become strings. */
export function doubleJson(v: number): string {
  return Number.isFinite(v) ? String(v) : `"${v}"`;
}

function rangeError(what: string, type: string): OtlpDecodeError {
  return new OtlpDecodeError(`${what} is out of range for ${type}`);
}

/** Decimal digits of the uint64 `hi * 2^32 + lo`, exact, without BigInt. */
export function uint64Text(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * 4294967296 + lo);
  // Three 24-bit limbs (c2 * 2^48 + c1 * 2^24 + c0) regrouped in base 10^7, where every
  // product stays below 2^53: 2^24 = 10^7 + 6777216, 2^48 = 2 * 10^14 + 8147497 * 10^7 + 6710656.
  const c0 = lo & 0xffffff;
  const c1 = ((lo >>> 24) | ((hi & 0xffff) << 8)) >>> 0;
  const c2 = hi >>> 16;
  let d0 = c0 + c1 * 6777216 + c2 * 6710656;
  let d1 = c1 + c2 * 8147497;
  let d2 = c2 * 2;
  d1 += Math.floor(d0 / 1e7);
  d0 %= 1e7;
  d2 += Math.floor(d1 / 1e7);
  d1 %= 1e7;
  const pad = (d: number) => String(d).padStart(7, '0');
  return d2 > 0 ? `${d2}${pad(d1)}${pad(d0)}` : `${d1}${pad(d0)}`;
}
