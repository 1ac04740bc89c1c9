import { SpanKind, SpanStatusCode, type AttributeValue, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { escapedValue, needsEscape, quoteJson } from '../../payload/safe-json.js';
import { hrTimeToNanos } from '../../tracing/clock.js';

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

function anyValue(v: AttributeValue): string | undefined {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${JSON.stringify(v)}}`;
    case 'boolean':
      return v ? '{"boolValue":true}' : '{"boolValue":false}';
    case 'number':
      // The same rules as otlp-json.ts's anyValue: int64 where it fits, non-finite as strings.
      if (Number.isSafeInteger(v)) return `{"intValue":"${String(v)}"}`;
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) return `{"intValue":"${BigInt(v).toString()}"}`;
      return Number.isFinite(v) ? `{"doubleValue":${String(v)}}` : `{"doubleValue":"${String(v)}"}`;
    default: {
      if (!Array.isArray(v)) return undefined;
      let out = '';
      for (const item of v as unknown[]) {
        if (item === null || item === undefined) continue;
        const encoded = anyValue(item as AttributeValue);
        if (encoded !== undefined) out += out === '' ? encoded : `,${encoded}`;
      }
      return `{"arrayValue":{"values":[${out}]}}`;
    }
  }
}

// Per attribute name, the text before its value: `{"key":"name","value":`, and the same with
// `{"stringValue":` after it (most values are strings), each also with the comma before it.
// Names repeat on every record of a shape: made once. And the last short value seen under the
// name with its whole `,{"key":..,"value":..}` text as one flat string: most values repeat from
// record to record (the principal, the tool, the outcome), so they cost one join, and the
// record's text has few pieces to flatten when it becomes bytes.
interface KeyTexts {
  readonly first: string;
  readonly next: string;
  readonly firstString: string;
  readonly nextString: string;
  lastValue: string | number | boolean | undefined;
  /** `next` (or `nextString`) + the last value's JSON, as a rope. */
  lastValueText: string;
  /** The whole pair for the last value, flat; '' until the value repeats. */
  lastNext: string;
}
const keyTexts = new Map<string, KeyTexts>();
function textsOf(key: string): KeyTexts {
  let t = keyTexts.get(key);
  if (t === undefined) {
    const first = `{"key":${JSON.stringify(key)},"value":`;
    t = { first, next: `,${first}`, firstString: `${first}{"stringValue":`, nextString: `,${first}{"stringValue":`, lastValue: undefined, lastValueText: '', lastNext: '' };
    if (keyTexts.size >= 4096) keyTexts.clear();
    keyTexts.set(key, t);
  }
  return t;
}

/** Short values are remembered per name (never a long argument or result). */
const MEMO_VALUE_LENGTH = 128;

/**
 * Escaped values longer than this are handed to the writer as pieces of their own (see
 * spanJsonParts): written into the batch Buffer as they are, not first copied into the flat
 * string V8 makes of a rope when it is written.
 */
const LONG_PIECE = 256;

/**
 * The attributes as an OTLP KeyValue array, after `before`; `reuse`: string values the chain
 * escaped for this record are taken from its memo (payload/safe-json.ts). With `parts`, the
 * text up to each long value and the value itself are pushed there, and what follows the last
 * one is returned.
 */
export function attributesJson(attrs: Attributes, reuse = false, parts?: string[], before = ''): string {
  let out = `${before}[`;
  let first = true;
  let i = 0;
  for (const key in attrs) {
    const v = attrs[key];
    if (v !== undefined) {
      const t = textsOf(key);
      if (v === t.lastValue && !first) {
        // Joined flat the first time the value repeats (a value new on every record never is).
        if (t.lastNext === '') t.lastNext = [t.lastValueText, typeof v === 'string' ? '}}' : '}'].join('');
        out += t.lastNext;
      } else if (typeof v === 'string') {
        const json = (reuse ? escapedValue(i, v) : undefined) ?? JSON.stringify(v);
        const open = first ? t.firstString : t.nextString;
        if (parts !== undefined && json.length > LONG_PIECE) {
          parts.push(out + open, json);
          out = '}}';
        } else if (first) out += open + json + '}}';
        else {
          const text = open + json;
          out += text + '}}';
          if (v.length <= MEMO_VALUE_LENGTH) remember(t, v, text);
        }
        first = false;
      } else {
        const value = anyValue(v);
        if (value !== undefined) {
          if (first) out += t.first + value + '}';
          else {
            const text = t.next + value;
            out += text + '}';
            if (typeof v !== 'object') remember(t, v, text);
          }
          first = false;
        }
      }
    }
    i++;
  }
  return out + ']';
}

function remember(t: KeyTexts, value: string | number | boolean, text: string): void {
  t.lastValue = value;
  t.lastValueText = text;
  t.lastNext = '';
}

export function statusCode(code: SpanStatusCode): number {
  return code === SpanStatusCode.OK ? 1 : code === SpanStatusCode.ERROR ? 2 : 0;
}

/** An id between quotes (ids are hex: nothing to escape, checked in one pass). */
function id(s: string): string {
  return typeof s === 'string' && !needsEscape(s) ? `"${s}"` : JSON.stringify(s);
}

/** One span's OTLP/JSON text (a `Span` message), the fields in otlp-json.ts's encodeSpan order. */
export function spanJson(span: ReadableSpan): string {
  return spanText(span, undefined);
}

/**
 * The same text in pieces, pushed to `parts` in order: long escaped values (an argument, a
 * result) as pieces of their own, so writing them copies each byte once (RequestWriter).
 */
export function spanJsonParts(span: ReadableSpan, parts: string[]): void {
  parts.push(spanText(span, parts));
}

function spanText(span: ReadableSpan, parts: string[] | undefined): string {
  const ctx = span.spanContext();
  const status = span.status;
  const start =
    `{"traceId":${id(ctx.traceId)},"spanId":${id(ctx.spanId)},"name":${quoteJson(span.name)}` +
    `,"kind":${KIND[span.kind] ?? 1},"startTimeUnixNano":"${hrTimeToNanos(span.startTime)}","endTimeUnixNano":"${hrTimeToNanos(span.endTime)}"` +
    ',"attributes":';
  let s =
    attributesJson(span.attributes, true, parts, start) +
    (status.message
      ? `,"status":{"code":${statusCode(status.code)},"message":${JSON.stringify(status.message)}}`
      : `,"status":{"code":${statusCode(status.code)}}`);
  if (ctx.traceFlags !== undefined) s += `,"flags":${num(ctx.traceFlags)}`;
  const parent = span.parentSpanContext?.spanId;
  if (parent) s += `,"parentSpanId":${id(parent)}`;
  if (span.events.length > 0) {
    let events = '';
    for (const e of span.events) {
      const a = e.attributes ? attributesJson(e.attributes) : '[]';
      events += `${events === '' ? '' : ','}{"timeUnixNano":"${hrTimeToNanos(e.time)}","name":${JSON.stringify(e.name)},"attributes":${a}}`;
    }
    s += `,"events":[${events}]`;
  }
  if (span.links.length > 0) {
    let links = '';
    for (const l of span.links) {
      const a = l.attributes ? attributesJson(l.attributes) : '[]';
      links += `${links === '' ? '' : ','}{"traceId":${JSON.stringify(l.context.traceId)},"spanId":${JSON.stringify(l.context.spanId)},"attributes":${a}}`;
    }
    s += `,"links":[${links}]`;
  }
  if (span.droppedAttributesCount) s += `,"droppedAttributesCount":${num(span.droppedAttributesCount)}`;
  return `${s}}`;
}

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
