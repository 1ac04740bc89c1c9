/**
 * Facts from a call's arguments, normalised before any rule reads them: every email address,
 * URL and file path in any string argument or object key, every number (and numeric string)
 * by dotted path, and the same per argument under `fields`. A container's field facts are its
 * children's and its keys'.
 */
import { Email, Facts, Fields, Url } from './fact-classes.js';
import { emailsIn } from './emails.js';
import { pathsOf } from './paths.js';
import { isUrlKey, urlsIn } from './urls.js';

export const MAX_FACT_DEPTH = 64;
export const MAX_FACT_NODES = 100_000;

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NONE_E: Email[] = Object.freeze([]) as unknown as Email[];
const NONE_U: Url[] = Object.freeze([]) as unknown as Url[];
const NONE_P: string[] = Object.freeze([]) as unknown as string[];
const EMPTY = new Fields(NONE_E, NONE_U, NONE_P);

/** Argument values too deep, too many, or ambiguous to read: the call is denied rather than half-read. */
export class FactsLimitError extends Error {}

/**
 * A numeric string as a number: plain decimals and exponents, and the ways amounts are written
 * (full-width digits, a currency sign or code before or after, thousands separators `5,000` /
 * `5 000` / `5_000`, a leading `+`), so `'$5,000'` cannot slip past a rule on the amount.
 * Hex, octal and binary literals are not numbers here (`Number('0x10')` is 16: a string rule
 * would then disagree with a reader). Ambiguous forms (`1,5`, `1.000,50`) are not numbers.
 */
export function numericString(s: string): number | undefined {
  let t = s.normalize('NFKC').trim();
  if (t.length === 0 || t.length > 64) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(t)) t = t.replace(DIGIT, asciiDigit);
  if (NUMERIC.test(t)) return DOT_GROUP.test(t) ? undefined : finite(Number(t));
  t = t.replace(CURRENCY, '').trim();
  if (GROUPED.test(t)) return finite(Number(t.replace(/[,_ \u00a0\u202f]/g, '')));
  return NUMERIC.test(t) && !DOT_GROUP.test(t) ? finite(Number(t)) : undefined;
}

// `1.000` is one to a parser in en-US and a thousand to one in de-DE: a fact of 1 would let the
// larger reading through a limit. A leading zero (`0.500`) or another count of decimals is not a group.
const DOT_GROUP = /^[+-]?[1-9]\d{0,2}\.\d{3}$/;
// Decimal digits of any script (`٥٠٠٠`): Python's int() and float() read them as digits.
const DIGIT = /\p{Nd}/gu;
const ND = /^\p{Nd}$/u;

/** A digit's value: Unicode puts each script's digits 0-9 in a run of consecutive code points. */
function asciiDigit(d: string): string {
  const cp = d.codePointAt(0) as number;
  let k = 0;
  while (k < 60 && ND.test(String.fromCodePoint(cp - k - 1))) k++;
  return String(k % 10);
}

// A currency sign or a three-letter code, before or after the amount.
const CURRENCY = /^(?:[$€£¥₹]|[A-Z]{3}\s?)|(?:\s?[$€£¥₹]|\s?[A-Z]{3})$/g;
// Digits in groups of three after the first, one kind of separator, an optional decimal part.
const GROUPED = /^[+-]?\d{1,3}(?:([,_ \u00a0\u202f])\d{3})(?:\1\d{3})*(?:\.\d+)?$/;

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}

/** The object or array a string holds as JSON (`{...}` or `[...]` once trimmed), if it does. */
function embeddedJson(s: string): object | undefined {
  // First and last non-blank characters, without copying the string (most are not JSON).
  let i = 0;
  let j = s.length - 1;
  while (i < j && s.charCodeAt(i) <= 32) i++;
  while (j > i && s.charCodeAt(j) <= 32) j--;
  if (j - i < 1) return undefined;
  const open = s.charCodeAt(i);
  const close = s.charCodeAt(j);
  if (!((open === 123 && close === 125) || (open === 91 && close === 93))) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  // JSON.parse keeps the last of two equal keys, a tool's parser may keep the first
  // (`{"path": "/etc/passwd", "path": "ok.txt"}`): such a document cannot be read safely.
  if (hasDuplicateKey(s)) throw new FactsLimitError('a JSON string in the arguments has a key twice in one object');
  return v;
}

/** Whether valid JSON text has two equal keys (escapes decoded) in one object. */
function hasDuplicateKey(t: string): boolean {
  const stack: Array<Set<string> | undefined> = [];
  let expectKey = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 34) {
      let j = i + 1;
      while (j < t.length && t.charCodeAt(j) !== 34) j += t.charCodeAt(j) === 92 ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (keys !== undefined && expectKey) {
        const k = JSON.parse(t.slice(i, j + 1)) as string;
        if (keys.has(k)) return true;
        keys.add(k);
        expectKey = false;
      }
      i = j;
    } else if (c === 123) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 91) {
      stack.push(undefined);
    } else if (c === 125 || c === 93) {
      stack.pop();
    } else if (c === 44) {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
  return false;
}

/** `a=1&b=x%2Fy`: form fields (`application/x-www-form-urlencoded`), decoded; a repeated name is a list. */
const FORM = /^[\w.[\]%-]+=[^&\s]*(?:&[\w.[\]%-]+=[^&\s]*)*$/;
function formFields(s: string): object | undefined {
  if (!s.includes('=') || !FORM.test(s)) return undefined;
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(s)) {
    const had = out[k];
    if (had === undefined) out[k] = v;
    else if (Array.isArray(had)) had.push(v);
    else out[k] = [had, v];
  }
  return out;
}

function concat<T>(parts: T[][], none: T[]): T[] {
  let out: T[] | undefined;
  for (const p of parts) {
    if (p.length === 0) continue;
    if (out === undefined) out = p.slice();
    else out.push(...p);
  }
  return out ?? none;
}

class Walk {
  nodes = 0;
  readonly numbers: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly fields: Record<string, Fields> = Object.create(null) as Record<string, Fields>;
  constructor(private readonly baseDir: string) {}

  visit(value: unknown, path: string, key: string | undefined, depth: number): Fields {
    if (++this.nodes > MAX_FACT_NODES) throw new FactsLimitError(`arguments have more than ${MAX_FACT_NODES} values`);
    if (depth > MAX_FACT_DEPTH) throw new FactsLimitError(`arguments nested deeper than ${MAX_FACT_DEPTH} levels`);
    let facts = EMPTY;
    if (typeof value === 'string') {
      const n = numericString(value);
      if (n !== undefined && path !== '') this.numbers[path] = n;
      facts = this.text(value, key);
      // A JSON document or a form in a string (`body: '{"path": "../../etc/passwd"}'`,
      // `'path=%2Fetc%2Fpasswd'`): the tool parses it, so its members are read as arguments
      // below this one (`body.path`).
      const doc = embeddedJson(value) ?? formFields(value);
      if (doc !== undefined) facts = this.container([facts, this.members(doc, path, key, depth)]);
    } else if (typeof value === 'number') {
      if (Number.isFinite(value) && path !== '') this.numbers[path] = value;
      // `{host: 2130706433}`: a socket API takes the number as an address (127.0.0.1). Only a
      // number that packs an address with a first octet (`{server: 3}` is an index, not 0.0.0.3),
      // and 0 (0.0.0.0, this host).
      if (Number.isInteger(value) && (value === 0 || (value >= 0x1000000 && value <= 0xffffffff)) && isUrlKey(key)) {
        const urls = urlsIn(String(value), key);
        if (urls.length > 0) facts = new Fields(NONE_E, urls, NONE_P);
      }
    } else if (typeof value === 'bigint') {
      if (path !== '') this.numbers[path] = Number(value);
    } else if (typeof value === 'object' && value !== null) {
      facts = this.members(value, path, key, depth);
    }
    if (path !== '') {
      // `{"a.b": 1, "a": {"b": 5000}}`: two values at one dotted path. A rule would see one of
      // them and the tool may read the other, so the call is denied rather than half-read.
      if (this.fields[path] !== undefined) throw new FactsLimitError(`arguments have two values at the dotted path '${path}'`);
      this.fields[path] = facts;
    }
    return facts;
  }

  /** The facts of an array's items or an object's keys and values. */
  members(value: object, path: string, key: string | undefined, depth: number): Fields {
    if (Array.isArray(value)) return this.container(value.map((v, i) => this.visit(v, path === '' ? String(i) : `${path}.${i}`, key, depth + 1)));
    const parts: Fields[] = [];
    for (const [k, v] of Object.entries(value)) {
      // A map keyed by path, address or URL (`files: {"/etc/cron.d/x": "..."}`): a tool that
      // iterates the keys reaches them, so a key is read as a string under its container's name.
      parts.push(this.text(k, key));
      parts.push(this.visit(v, path === '' ? k : `${path}.${k}`, k, depth + 1));
    }
    return this.container(parts);
  }

  /** The email, URL and path facts of one string under `key`. */
  text(value: string, key: string | undefined): Fields {
    const emails = emailsIn(value);
    const urls = urlsIn(value, key);
    const p = pathsOf(value, key, this.baseDir);
    if (emails.length === 0 && urls.length === 0 && p.length === 0) return EMPTY;
    return new Fields(emails, urls, p.length === 0 ? NONE_P : p);
  }

  container(parts: Fields[]): Fields {
    if (parts.every((p) => p === EMPTY)) return EMPTY;
    return new Fields(
      concat(parts.map((p) => p.emails), NONE_E),
      concat(parts.map((p) => p.urls), NONE_U),
      concat(parts.map((p) => p.paths), NONE_P),
    );
  }
}

/** The facts of `args`. Throws FactsLimitError on arguments too deep or too large to read. */
export function computeFacts(args: unknown, baseDir: string): Facts {
  const walk = new Walk(baseDir);
  const root = walk.visit(args, '', undefined, 0);
  return new Facts(root.emails, root.urls, root.paths, walk.numbers, walk.fields);
}

/** Every leaf's dotted path: strings only, or strings and numbers (what a fact may come from). */
export function leafPaths(args: unknown, withNumbers: boolean, out: string[] = [], path = '', depth = 0): string[] {
  if (depth > MAX_FACT_DEPTH || out.length > MAX_FACT_NODES) return out;
  if (typeof args === 'string' || (withNumbers && (typeof args === 'number' || typeof args === 'bigint'))) out.push(path);
  else if (Array.isArray(args)) args.forEach((v, i) => leafPaths(v, withNumbers, out, path === '' ? String(i) : `${path}.${i}`, depth + 1));
  else if (typeof args === 'object' && args !== null)
    for (const [k, v] of Object.entries(args)) leafPaths(v, withNumbers, out, path === '' ? k : `${path}.${k}`, depth + 1);
  return out;
}
