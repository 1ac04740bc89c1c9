import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { needsEscape, quoteJson } from '../../payload/safe-json.js';
import { hrTimeToNanos } from '../../tracing/clock.js';
import { attributesInto, attributesJson } from './otlp-json-attributes.js';
import { TextPieces } from './text-pieces.js';

/**
 * OTLP/JSON written straight to text, one span at a time, byte for byte what
 * `JSON.stringify(buildTraceRequest(spans))` (otlp-json.ts, the reference) produces: each
 * record is encoded once, its bytes kept on the record, and a request is the envelope around
 * the joined fragments. No object tree per span, no re-encoding of a batch, no string copies
 * of the same body (tests/export-wire-bytes.test.ts holds the two paths to the same bytes).
 */

type Span = ReadableSpan & { [SPAN_JSON]?: Buffer };

const SPAN_JSON: unique symbol = Symbol('tooltrail.spanJson');

// OTLP's SpanKind enum is the API's plus one (0 is SPAN_KIND_UNSPECIFIED).
export const KIND: Record<SpanKind, number> = {
  [SpanKind.INTERNAL]: 1,
  [SpanKind.SERVER]: 2,
  [SpanKind.CLIENT]: 3,
  [SpanKind.PRODUCER]: 4,
  [SpanKind.CONSUMER]: 5,
};

/** A number as JSON.stringify writes it in an object (non-finite ones become null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

export function statusCode(code: SpanStatusCode): number {
  return code === SpanStatusCode.OK ? 1 : code === SpanStatusCode.ERROR ? 2 : 0;
}

/** An id between quotes (ids are hex: nothing to escape, checked in one pass). */
function id(s: string): string {
  return typeof s === 'string' && !needsEscape(s) ? `"${s}"` : JSON.stringify(s);
}

/** Where spanJson gathers a record's text (one record at a time: nothing re-enters it). */
const pieces = new TextPieces();

/** One span's OTLP/JSON text (a `Span` message), the fields in otlp-json.ts's encodeSpan order. */
export function spanJson(span: ReadableSpan): string {
  pieces.reset();
  spanJsonInto(span, pieces);
  return pieces.text();
}

/**
 * The same text added to `out` piece by piece, long escaped values (an argument, a result) as
 * pieces of their own, so writing them copies each byte once (RequestWriter). Closed at the end.
 */
export function spanJsonInto(span: ReadableSpan, out: TextPieces): void {
  const ctx = span.spanContext();
  const status = span.status;
  out.add('{"traceId":');
  out.add(id(ctx.traceId));
  out.add(',"spanId":');
  out.add(id(ctx.spanId));
  out.add(',"name":');
  out.add(quoteJson(span.name));
  out.add(KIND_TEXT[span.kind] ?? ',"kind":1,"startTimeUnixNano":"');
  out.add(hrTimeToNanos(span.startTime));
  out.add('","endTimeUnixNano":"');
  out.add(hrTimeToNanos(span.endTime));
  out.add('","attributes":');
  attributesInto(span.attributes, true, out);
  out.add(
    status.message
      ? `,"status":{"code":${statusCode(status.code)},"message":${JSON.stringify(status.message)}}`
      : STATUS_TEXT[statusCode(status.code)] as string,
  );
  if (ctx.traceFlags !== undefined) out.add(`,"flags":${num(ctx.traceFlags)}`);
  const parent = span.parentSpanContext?.spanId;
  if (parent) {
    out.add(',"parentSpanId":');
    out.add(id(parent));
  }
  if (span.events.length > 0) {
    out.add(',"events":[');
    let first = true;
    for (const e of span.events) {
      out.add(`${first ? '' : ','}{"timeUnixNano":"${hrTimeToNanos(e.time)}","name":${JSON.stringify(e.name)},"attributes":`);
      if (e.attributes) attributesInto(e.attributes, false, out);
      else out.add('[]');
      out.add('}');
      first = false;
    }
    out.add(']');
  }
  if (span.links.length > 0) {
    out.add(',"links":[');
    let first = true;
    for (const l of span.links) {
      out.add(`${first ? '' : ','}{"traceId":${JSON.stringify(l.context.traceId)},"spanId":${JSON.stringify(l.context.spanId)},"attributes":`);
      if (l.attributes) attributesInto(l.attributes, false, out);
      else out.add('[]');
      out.add('}');
      first = false;
    }
    out.add(']');
  }
  if (span.droppedAttributesCount) out.add(`,"droppedAttributesCount":${num(span.droppedAttributesCount)}`);
  out.add('}');
  out.close();
}

/** `,"kind":N,"startTimeUnixNano":"` per API kind; `,"status":{"code":N}` per OTLP code. */
const KIND_TEXT: Record<number, string> = Object.fromEntries(Object.entries(KIND).map(([k, n]) => [k, `,"kind":${n},"startTimeUnixNano":"`]));
const STATUS_TEXT = [0, 1, 2].map((c) => `,"status":{"code":${c}}`);

/**
 * The OTLP/JSON bytes of one span, computed once and kept on the record: a record is final
 * once it reaches the sink (the chain has hashed it), so later batches, spool writes and
 * retries reuse the same bytes.
 */
export function spanJsonBytes(span: ReadableSpan): Buffer {
  const cached = (span as Span)[SPAN_JSON];
  if (cached !== undefined) return cached;
  const bytes = slabBytes(spanJson(span));
  if (Object.isExtensible(span)) (span as Span)[SPAN_JSON] = bytes;
  return bytes;
}

// Records' bytes are cut from slabs of their own, exactly sized: Buffer.from's 8 KiB pool fits
// two 3 KiB records and leaves the rest of each pool unused. The records of one batch come in
// together and are dropped together (at its seal), so a slab does not outlive its batch by long.
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabAt = 0;
function slabBytes(text: string): Buffer {
  const n = Buffer.byteLength(text, 'utf8');
  if (n > SLAB_BYTES / 4) return Buffer.from(text, 'utf8');
  if (slab.length - slabAt < n) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabAt = 0;
  }
  const at = slabAt;
  slab.write(text, at, n, 'utf8');
  // 8-byte aligned, like the pool.
  slabAt = (at + n + 7) & ~7;
  return slab.subarray(at, at + n);
}

const resourceCache = new WeakMap<object, Buffer>();
const scopeCache = new WeakMap<object, Buffer>();

/** A resource as OTLP/JSON (`{"attributes":[...]}`), once per resource object. */
export function resourceJsonBytes(resource: ReadableSpan['resource']): Buffer {
  let b = resourceCache.get(resource);
  if (b === undefined) {
    b = Buffer.from(`{"attributes":${attributesJson(resource.attributes as Attributes)}}`, 'utf8');
    resourceCache.set(resource, b);
  }
  return b;
}

/** An instrumentation scope as OTLP/JSON (`{"name":..,"version":..}`), once per scope object. */
export function scopeJsonBytes(scope: ReadableSpan['instrumentationScope']): Buffer {
  let b = scopeCache.get(scope);
  if (b === undefined) {
    const json = scope.version ? { name: scope.name, version: scope.version } : { name: scope.name };
    b = Buffer.from(JSON.stringify(json), 'utf8');
    scopeCache.set(scope, b);
  }
  return b;
}
