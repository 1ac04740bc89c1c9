import crypto, { createHash, createHmac } from 'node:crypto';
import { ATTR_HASH, ATTR_MAC } from '../contract/semconv.js';

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
export const UNHASHED_ATTRIBUTES: ReadonlySet<string> = new Set([ATTR_HASH, ATTR_MAC]);

/** Numbers as JSON prints them; non-finite ones as the strings OTLP/JSON readers produce. */
function value(v: CanonicalValue): CanonicalValue {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(value);
  return v;
}

export function sortedPairs(attrs: Record<string, CanonicalValue>, skipUnhashed: boolean): [string, CanonicalValue][] {
  const keys = Object.keys(attrs);
  // Code-unit order, as JavaScript's default sort gives: simple to reproduce in any language.
  keys.sort();
  const out: [string, CanonicalValue][] = [];
  for (const k of keys) if (!(skipUnhashed && UNHASHED_ATTRIBUTES.has(k))) out.push([k, value(attrs[k] as CanonicalValue)]);
  return out;
}

/**
 * `JSON.stringify` of the array
 * `["tooltrail-record-v1", traceId, spanId, parentSpanId, name, kind, start, end, statusCode,
 *   statusMessage, [[key, value], ...sorted], [[eventName, time, [[key, value], ...sorted]], ...]]`.
 * (A hand-written encoder with a per-shape key-order cache measured no faster than this.)
 */
export function canonicalRecordJson(r: CanonicalRecord): string {
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
    sortedPairs(r.attributes, true),
    r.events.map((e) => [e.name, e.timeUnixNano, sortedPairs(e.attributes, false)]),
  ]);
}

export function recordHash(r: CanonicalRecord): string {
  return sha256Hex(canonicalRecordJson(r));
}

/** SHA-256 (hex) of an already-encoded canonical record. */
export function canonicalHash(json: string): string {
  return sha256Hex(json);
}

// crypto.hash (Node 20.12+) hashes in one call without a Hash object; older Nodes take the long way.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
function sha256Hex(data: string): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
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
