/**
 * The size cap. A payload over the cap is cut so that what remains is still valid JSON with
 * its structure intact: long strings are shortened, array items and object properties that no
 * longer fit are dropped and counted. The span says what was cut (see encode-report.ts); we
 * never leave it to an exporter's attribute length limit to cut silently.
 */

/** Appended to a shortened string. */
export const CUT_STRING_SUFFIX = '…[truncated]';
/** Room kept at each level for the closing bracket and a "this many dropped" marker. */
const RESERVE = 40;
/** Smallest budget worth spending on a string; below it the string is dropped. */
const MIN_STRING_BUDGET = 24;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** True when `s` (UTF-8) is over `maxBytes`; exact only when it has to be. */
export function overCap(s: string, maxBytes: number): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no count.
  return s.length * 3 > maxBytes && utf8(s) > maxBytes;
}

/** A JSON encoding of the parsed value `json` in at most `maxBytes` UTF-8 bytes. */
export function truncateJson(json: string, maxBytes: number): string {
  const fitted = fit(JSON.parse(json) as unknown, maxBytes);
  return fitted ?? '"[Truncated]"';
}

function fit(value: unknown, budget: number): string | undefined {
  if (typeof value === 'string') return fitString(value, budget);
  if (typeof value !== 'object' || value === null) {
    const s = JSON.stringify(value);
    return s.length <= budget ? s : undefined;
  }
  if (Array.isArray(value)) return fitArray(value, budget);
  return fitObject(value as Record<string, unknown>, budget);
}

function fitString(s: string, budget: number): string | undefined {
  const full = JSON.stringify(s);
  if (!overCap(full, budget)) return full;
  if (budget < MIN_STRING_BUDGET) return undefined;
  // Characters never take fewer bytes than one, so `budget` characters is an upper bound;
  // shrink by the overshoot until it fits (escapes and multi-byte characters cost more).
  let n = Math.min(s.length, budget);
  for (;;) {
    if (n > 0 && isHighSurrogate(s.charCodeAt(n - 1))) n--; // never split a surrogate pair
    const candidate = JSON.stringify(s.slice(0, n) + CUT_STRING_SUFFIX);
    const size = utf8(candidate);
    if (size <= budget) return candidate;
    if (n === 0) return undefined;
    n = Math.max(0, n - Math.max(1, size - budget));
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function fitArray(arr: readonly unknown[], budget: number): string | undefined {
  if (budget < 2) return undefined;
  let out = '[';
  let used = 1;
  let i = 0;
  for (; i < arr.length; i++) {
    const sep = i > 0 ? 1 : 0;
    const room = budget - used - sep - RESERVE;
    const item = room > 0 ? fit(arr[i], room) : undefined;
    if (item === undefined) break;
    out += (sep ? ',' : '') + item;
    used += sep + utf8(item);
  }
  if (i < arr.length) out += `${i > 0 ? ',' : ''}${JSON.stringify(`[+${arr.length - i} items]`)}`;
  out += ']';
  // Only a tiny nested budget can be overrun, by the marker alone: then drop the whole value.
  return utf8(out) <= budget ? out : undefined;
}

function fitObject(obj: Record<string, unknown>, budget: number): string | undefined {
  if (budget < 2) return undefined;
  const keys = Object.keys(obj);
  let out = '{';
  let used = 1;
  let i = 0;
  for (; i < keys.length; i++) {
    const key = keys[i] as string;
    const sep = i > 0 ? 1 : 0;
    const name = JSON.stringify(key) + ':';
    const room = budget - used - sep - utf8(name) - RESERVE;
    const item = room > 0 ? fit(obj[key], room) : undefined;
    if (item === undefined) break;
    out += (sep ? ',' : '') + name + item;
    used += sep + utf8(name) + utf8(item);
  }
  if (i < keys.length) out += `${i > 0 ? ',' : ''}"[truncated]":${JSON.stringify(`+${keys.length - i} keys`)}`;
  out += '}';
  return utf8(out) <= budget ? out : undefined;
}

/** Free text cut to `maxBytes`, saying how long it was. */
export function truncateText(s: string, maxBytes: number): string {
  const size = utf8(s);
  if (size <= maxBytes) return s;
  const suffix = `…[truncated, ${size} bytes]`;
  let n = Math.max(0, Math.min(s.length, maxBytes - utf8(suffix)));
  for (;;) {
    if (n > 0 && isHighSurrogate(s.charCodeAt(n - 1))) n--;
    const candidate = s.slice(0, n) + suffix;
    const over = utf8(candidate) - maxBytes;
    if (over <= 0 || n === 0) return candidate;
    n = Math.max(0, n - over);
  }
}
