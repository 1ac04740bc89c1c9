import { createHash, createHmac } from 'node:crypto';

/**
 * The canonical encoding of a record: the exact bytes its `tooltrail.hash` is computed over.
 * This is a specification (docs/integrity.md, with test vectors): verifiers in other languages
 * must reproduce it byte for byte from what a collector stored.
 */

export const RECORD_VERSION = 'tooltrail-record-v1';
export const CHECKPOINT_VERSION = 'tooltrail-checkpoint-v1';
/** `tooltrail.prev_hash` of a stream's first record. */
export const GENESIS_HASH = '0'.repeat(64);

export type CanonicalValue = string | number | boolean | null | CanonicalValue[];

/** A record reduced to what its hash covers, from a span, a trail line or a query API. */
export interface CanonicalRecord {
  traceId: string;
  spanId: string;
  /** Empty string for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind number: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  /** Nanoseconds since the epoch, decimal, no leading zeros. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** OTLP status code: 0 UNSET, 1 OK, 2 ERROR. */
  statusCode: number;
  /** Empty string when none. */
  statusMessage: string;
  attributes: Record<string, CanonicalValue>;
  events: { name: string; timeUnixNano: string; attributes: Record<string, CanonicalValue> }[];
}

/** Attributes a record's hash cannot cover: they are computed from it. */
export const UNHASHED_ATTRIBUTES: ReadonlySet<string> = new Set(['tooltrail.hash', 'tooltrail.mac']);

/** Numbers as JSON prints them; non-finite ones as the strings OTLP/JSON readers produce. */
function value(v: CanonicalValue): CanonicalValue {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(value);
  return v;
}

// Strings that JSON.stringify would not escape can be quoted as they are: the common case, and
// several times cheaper than a call into the JSON encoder per string.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function encodeValue(v: CanonicalValue): string {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : quote(String(v));
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return JSON.stringify(value(v));
  }
}

// Records from one code path share their attribute names in one order: remember the sorted
// order per insertion order rather than sorting every record. Bounded, so odd shapes cannot grow it.
const sortedKeyCache = new Map<string, string[]>();

function sortedKeys(attrs: Record<string, CanonicalValue>): string[] {
  const keys = Object.keys(attrs);
  const signature = `${keys.length}\u0000${keys.join('\u0000')}`;
  let sorted = sortedKeyCache.get(signature);
  // A signature can collide when keys contain NUL; a hit is used only if it is the same key set.
  if (sorted !== undefined && !sorted.every((k) => Object.hasOwn(attrs, k))) sorted = undefined;
  if (sorted === undefined) {
    // Code-unit order, as JavaScript's default sort gives: simple to reproduce in any language.
    sorted = [...keys].sort();
    if (sortedKeyCache.size >= 256) sortedKeyCache.clear();
    sortedKeyCache.set(signature, sorted);
  }
  return sorted;
}

function encodePairs(attrs: Record<string, CanonicalValue>, skipUnhashed: boolean): string {
  let out = '[';
  let first = true;
  for (const k of sortedKeys(attrs)) {
    if (skipUnhashed && UNHASHED_ATTRIBUTES.has(k)) continue;
    out += `${first ? '' : ','}[${quote(k)},${encodeValue(attrs[k] as CanonicalValue)}]`;
    first = false;
  }
  return `${out}]`;
}

/**
 * `JSON.stringify` of the array
 * `["tooltrail-record-v1", traceId, spanId, parentSpanId, name, kind, start, end, statusCode,
 *   statusMessage, [[key, value], ...sorted], [[eventName, time, [[key, value], ...sorted]], ...]]`,
 * written out directly (the same bytes, asserted against JSON.stringify in the tests).
 */
export function canonicalRecordJson(r: CanonicalRecord): string {
  let events = '[';
  for (let i = 0; i < r.events.length; i++) {
    const e = r.events[i] as CanonicalRecord['events'][number];
    events += `${i > 0 ? ',' : ''}[${quote(e.name)},${quote(e.timeUnixNano)},${encodePairs(e.attributes, false)}]`;
  }
  events += ']';
  return (
    `[${quote(RECORD_VERSION)},${quote(r.traceId)},${quote(r.spanId)},${quote(r.parentSpanId)},${quote(r.name)},` +
    `${encodeValue(r.kind)},${quote(r.startTimeUnixNano)},${quote(r.endTimeUnixNano)},${encodeValue(r.statusCode)},` +
    `${quote(r.statusMessage)},${encodePairs(r.attributes, true)},${events}]`
  );
}

/** The reference encoding: what canonicalRecordJson must equal, byte for byte. */
export function canonicalRecordJsonReference(r: CanonicalRecord): string {
  const pairs = (attrs: Record<string, CanonicalValue>, skip: boolean) =>
    Object.keys(attrs)
      .filter((k) => !(skip && UNHASHED_ATTRIBUTES.has(k)))
      .sort()
      .map((k) => [k, value(attrs[k] as CanonicalValue)]);
  return JSON.stringify([
    RECORD_VERSION,
    r.traceId,
    r.spanId,
    r.parentSpanId,
    r.name,
    r.kind,
    r.startTimeUnixNano,
    r.endTimeUnixNano,
    r.statusCode,
    r.statusMessage,
    pairs(r.attributes, true),
    r.events.map((e) => [e.name, e.timeUnixNano, pairs(e.attributes, false)]),
  ]);
}

export function recordHash(r: CanonicalRecord): string {
  return createHash('sha256').update(canonicalRecordJson(r)).digest('hex');
}

/** `tooltrail.mac`: HMAC-SHA256 of the record's hash (hex), with the integrity key. */
export function recordMac(key: Buffer | string, hash: string): string {
  return createHmac('sha256', key).update(hash).digest('hex');
}

export interface CheckpointContent {
  streamId: string;
  index: number;
  seqStart: number;
  seqEnd: number;
  lastHash: string;
  /** The previous checkpoint's signature (base64), or its last hash when unsigned; '' for the first. */
  prevSignature: string;
  final: boolean;
}

/** The bytes a checkpoint signature covers. */
export function canonicalCheckpointJson(c: CheckpointContent): string {
  return JSON.stringify([CHECKPOINT_VERSION, c.streamId, c.index, c.seqStart, c.seqEnd, c.lastHash, c.prevSignature, c.final]);
}
