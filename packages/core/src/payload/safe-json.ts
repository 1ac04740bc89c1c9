/**
 * Deterministic JSON for anything a tool can receive, return or throw. JSON.stringify throws on
 * circular values and BigInt and silently drops functions, symbols and Map contents; an audit
 * record must never break the call it records, and must say what it could not represent.
 *
 * Encoding (documented in docs/span-schema.md):
 * - bigint -> "123n"; NaN / Infinity / -Infinity -> "NaN" / "Infinity" / "-Infinity"
 * - undefined -> omitted in objects, "[undefined]" elsewhere; function -> "[Function name]"
 * - symbol -> "[Symbol(desc)]"; Date -> ISO string ("[Invalid Date]")
 * - new String / Number / Boolean / Object(1n) -> the primitive inside, as above
 * - Map -> {"[Map]": [[key, value], ...]}; Set -> {"[Set]": [...]}
 * - Buffer / typed arrays / ArrayBuffer -> "[Uint8Array 12 bytes]" (contents never recorded)
 * - Error -> {"[Error]": name, "message": ..., "code"?: ..., "cause"?: ...}
 * - a reference back to an ancestor -> "[Circular]"; deeper than maxDepth -> "[MaxDepth]"
 * - a getter or toJSON that throws -> "[Unserializable: message]"
 */

export interface SafeJsonOptions {
  /** Nesting deeper than this is replaced by "[MaxDepth]". */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 64;

export function toSafeJson(value: unknown, options?: SafeJsonOptions): string {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  // Most tool arguments are plain JSON already: a type-only check, then the native encoder,
  // is several times faster than building the string here.
  if (isPlainJson(value, maxDepth)) return JSON.stringify(value);
  const walker = new Walker(maxDepth);
  try {
    return walker.top(value);
  } catch (err) {
    // Last resort: something exotic (a revoked Proxy at the top level, say). Still valid JSON.
    return JSON.stringify(`[Unserializable: ${describeError(err)}]`);
  }
}

const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;

/** True when JSON.stringify would encode `value` exactly as the walker does. Never throws. */
function isPlainJson(value: unknown, maxDepth: number): boolean {
  try {
    return plainCheck(value, 0, maxDepth, []);
  } catch {
    return false;
  }
}

function plainCheck(value: unknown, depth: number, maxDepth: number, ancestors: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= maxDepth || ancestors.includes(value)) return false;
      const proto: unknown = Object.getPrototypeOf(value);
      ancestors.push(value);
      if (proto === ArrayProto) {
        const arr = value as unknown[];
        for (let i = 0; i < arr.length; i++) if (!plainCheck(arr[i], depth + 1, maxDepth, ancestors)) return false;
      } else if (proto === ObjectProto || proto === null) {
        if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
        const obj = value as Record<string, unknown>;
        for (const key in obj) {
          const v = obj[key];
          // undefined properties are omitted by both encoders alike.
          if (v !== undefined && !plainCheck(v, depth + 1, maxDepth, ancestors)) return false;
        }
      } else return false;
      ancestors.pop();
      return true;
    }
    default:
      return false;
  }
}

const NOT_BOXED = Symbol('not boxed');

/** The primitive inside a String, Number, Boolean or BigInt object; NOT_BOXED for anything else (a forged prototype too). */
function unboxed(obj: object): unknown {
  try {
    if (obj instanceof String) return String.prototype.valueOf.call(obj);
    if (obj instanceof Number) return Number.prototype.valueOf.call(obj);
    if (obj instanceof Boolean) return Boolean.prototype.valueOf.call(obj);
    if (obj instanceof BigInt) return BigInt.prototype.valueOf.call(obj);
  } catch {
    // valueOf refuses an object that only has the prototype: not boxed, walked as an object
  }
  return NOT_BOXED;
}

class Walker {
  private readonly ancestors: object[] = [];
  constructor(private readonly maxDepth: number) {}

  top(value: unknown): string {
    const out = this.value(value, 0);
    return out === undefined ? '"[undefined]"' : out;
  }


  /** Returns undefined only for values JSON omits from objects (undefined). */
  private value(value: unknown, depth: number): string | undefined {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value);
      case 'number':
        return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        return `"${value.toString()}n"`;
      case 'undefined':
        return undefined;
      case 'function':
        return JSON.stringify(`[Function ${value.name || 'anonymous'}]`);
      case 'symbol':
        return JSON.stringify(`[${value.toString()}]`);
      case 'object':
        if (value === null) return 'null';
        return this.object(value, depth);
      default:
        return '"[Unknown]"';
    }
  }

  private object(obj: object, depth: number): string {
    if (this.ancestors.includes(obj)) return '"[Circular]"';
    if (depth >= this.maxDepth) return '"[MaxDepth]"';
    if (ArrayBuffer.isView(obj)) {
      return JSON.stringify(`[${obj.constructor?.name ?? 'TypedArray'} ${obj.byteLength} bytes]`);
    }
    if (obj instanceof ArrayBuffer) return JSON.stringify(`[ArrayBuffer ${obj.byteLength} bytes]`);
    // A boxed primitive is its value: `new String(secret)` was written one property per character,
    // which no detector could read as the secret it is.
    const boxed = unboxed(obj);
    if (boxed !== NOT_BOXED) return this.value(boxed, depth) ?? 'null';
    if (obj instanceof Date) {
      const t = obj.getTime();
      return Number.isNaN(t) ? '"[Invalid Date]"' : JSON.stringify(obj.toISOString());
    }
    this.ancestors.push(obj);
    try {
      if (Array.isArray(obj)) return this.array(obj, depth);
      if (obj instanceof Map) return `{"[Map]":${this.array(Array.from(obj, ([k, v]) => [k, v]), depth)}}`;
      if (obj instanceof Set) return `{"[Set]":${this.array(Array.from(obj), depth)}}`;
      if (obj instanceof Error) return this.error(obj, depth);
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        let replaced: unknown;
        try {
          replaced = toJSON.call(obj);
        } catch (err) {
          return JSON.stringify(`[Unserializable: ${describeError(err)}]`);
        }
        if (replaced !== obj) {
          const out = this.value(replaced, depth + 1);
          return out === undefined ? '"[undefined]"' : out;
        }
      }
      return this.plain(obj as Record<string, unknown>, depth);
    } finally {
      this.ancestors.pop();
    }
  }

  private array(arr: readonly unknown[], depth: number): string {
    let out = '[';
    for (let i = 0; i < arr.length; i++) {
      if (i > 0) out += ',';
      let item: unknown;
      try {
        item = arr[i];
      } catch (err) {
        out += JSON.stringify(`[Unserializable: ${describeError(err)}]`);
        continue;
      }
      out += this.value(item, depth + 1) ?? '"[undefined]"';
    }
    return out + ']';
  }

  private plain(obj: Record<string, unknown>, depth: number): string {
    let keys: string[];
    try {
      keys = Object.keys(obj);
    } catch (err) {
      return JSON.stringify(`[Unserializable: ${describeError(err)}]`);
    }
    let out = '{';
    let first = true;
    for (const key of keys) {
      let item: unknown;
      try {
        item = obj[key];
      } catch (err) {
        item = `[Unserializable: ${describeError(err)}]`;
      }
      const encoded = this.value(item, depth + 1);
      if (encoded === undefined) continue;
      out += (first ? '' : ',') + JSON.stringify(key) + ':' + encoded;
      first = false;
    }
    return out + '}';
  }

  private error(err: Error, depth: number): string {
    const fields: Record<string, unknown> = { '[Error]': err.name || err.constructor?.name || 'Error' };
    fields.message = err.message;
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) fields.code = code;
    if (err.cause !== undefined) fields.cause = err.cause;
    return this.plain(fields, depth);
  }
}

/** A short, never-throwing description of a thrown value. */
export function describeError(err: unknown): string {
  try {
    if (err instanceof Error) return err.message;
    if (typeof err === 'string') return err;
    return toSafeJson(err, { maxDepth: 4 });
  } catch {
    return 'unknown error';
  }
}

/**
 * The JSON text of the string attribute values the integrity chain escaped last, for the
 * canonical encoding (docs/integrity.md). The OTLP/JSON encoder escapes string values the same
 * way (`JSON.stringify` of the string), and the durable sink encodes a record right after the
 * chain hashed it, so it reuses them instead of escaping every argument and result a second
 * time. One shared memo, not a field per record: nothing to allocate per record, nothing kept
 * alive with the record until its batch is sealed (a GC survivor copied by every scavenge).
 * An entry is only ever used for a value equal to the one it was made from, and the escape
 * is a function of the value alone, so a stale entry can never give wrong bytes.
 */
export const escapedValues: { pairs: unknown[] } = { pairs: [] };

/** The memo's JSON text of `value` when entry `i` (the attribute's index in key order) holds it. */
export function escapedValue(i: number, value: string): string | undefined {
  const pairs = escapedValues.pairs;
  return pairs[2 * i] === value ? (pairs[2 * i + 1] as string) : undefined;
}

/**
 * True when `JSON.stringify(s)` would escape something in `s`: `"`, `\`, a control character or
 * a surrogate (a lone one becomes `\uXXXX`; a valid pair is simply sent down the slow path).
 */
export function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/**
 * `JSON.stringify(s)` for a string, without the encoder's call when nothing needs escaping
 * (ids, span names, most short values): one pass over the char codes costs less than its entry.
 */
export function quoteJson(s: string): string {
  return needsEscape(s) ? JSON.stringify(s) : `"${s}"`;
}
