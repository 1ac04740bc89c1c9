import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { buildTraceRequest } from './otlp-json.js';

/**
 * OTLP/protobuf encoding of an ExportTraceServiceRequest (opentelemetry-proto,
 * collector/trace/v1 and trace/v1), written by hand: the wire format is small and needs no
 * schema compiler. It encodes the request in OTLP/JSON's shape (what the spool holds, see
 * docs/export.md), so a spooled request, however old, is sent as protobuf with exactly the
 * spans the JSON would carry: hex ids become bytes, decimal nanosecond strings fixed64,
 * `intValue` strings int64 varints.
 */

/** Field numbers and wire types: (field << 3) | type, precomputed. */
const LEN = 2;
const VARINT = 0;
const I64 = 1;
const I32 = 5;
const key = (field: number, type: number) => (field << 3) | type;

class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, size));
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(v: number): void {
    // Non-negative integers below 2^53 (lengths, tags, counts, safe int64 values).
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varintBig(v: bigint): void {
    let n = BigInt.asUintN(64, v);
    this.ensure(10);
    while (n > 0x7fn) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }
  tag(field: number, type: number): void {
    this.varint(key(field, type));
  }
  string(field: number, s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }
  hex(field: number, s: string): void {
    if (!s) return;
    const n = s.length >>> 1;
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    const written = this.buf.write(s, this.pos, n, 'hex');
    if (written < n) this.buf.fill(0, this.pos + written, this.pos + n); // not hex: the length stays right
    this.pos += n;
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  fixed64(field: number, decimal: string): void {
    this.tag(field, I64);
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(decimal || '0')), this.pos);
    this.pos += 8;
  }
  fixed32(field: number, v: number): void {
    this.tag(field, I32);
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  double(field: number, v: number): void {
    this.tag(field, I64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  /** Starts a length-delimited field; returns where its content begins. One byte is reserved for the length. */
  begin(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    this.pos += 1;
    return this.pos;
  }
  /** Writes the length of the field begun at `start`, moving the content when it needs more than one byte. */
  end(start: number): void {
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    let p = start - 1;
    let v = len;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos += extra;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

type Json = Record<string, unknown>;
const SAFE_INT = /^-?\d{1,15}$/;

function anyValue(w: Writer, v: Json | undefined): void {
  if (v === undefined || v === null) return;
  if (typeof v.stringValue === 'string') w.string(1, v.stringValue);
  else if (typeof v.boolValue === 'boolean') {
    w.tag(2, VARINT);
    w.varint(v.boolValue ? 1 : 0);
  } else if (v.intValue !== undefined && v.intValue !== null) {
    const s = String(v.intValue);
    w.tag(3, VARINT);
    if (SAFE_INT.test(s) && s[0] !== '-') w.varint(Number(s));
    else w.varintBig(BigInt(s));
  } else if (v.doubleValue !== undefined && v.doubleValue !== null) w.double(4, Number(v.doubleValue));
  else if (v.arrayValue !== undefined && v.arrayValue !== null) {
    const start = w.begin(5);
    for (const item of ((v.arrayValue as Json).values as Json[] | undefined) ?? []) {
      const s = w.begin(1);
      anyValue(w, item);
      w.end(s);
    }
    w.end(start);
  } else if (v.kvlistValue !== undefined && v.kvlistValue !== null) {
    const start = w.begin(6);
    attributes(w, 1, ((v.kvlistValue as Json).values as Json[] | undefined) ?? []);
    w.end(start);
  } else if (typeof v.bytesValue === 'string') {
    w.bytes(7, Buffer.from(v.bytesValue, 'base64'));
  }
}

function attributes(w: Writer, field: number, list: Json[] | undefined): void {
  if (!list) return;
  for (const kv of list) {
    const start = w.begin(field);
    w.string(1, String(kv.key ?? ''));
    const v = w.begin(2);
    anyValue(w, kv.value as Json | undefined);
    w.end(v);
    w.end(start);
  }
}

function count(w: Writer, field: number, n: unknown): void {
  if (typeof n === 'number' && n > 0) {
    w.tag(field, VARINT);
    w.varint(n);
  }
}

function span(w: Writer, s: Json): void {
  w.hex(1, String(s.traceId ?? ''));
  w.hex(2, String(s.spanId ?? ''));
  if (typeof s.traceState === 'string' && s.traceState) w.string(3, s.traceState);
  if (typeof s.parentSpanId === 'string' && s.parentSpanId) w.hex(4, s.parentSpanId);
  w.string(5, String(s.name ?? ''));
  if (typeof s.kind === 'number' && s.kind !== 0) {
    w.tag(6, VARINT);
    w.varint(s.kind);
  }
  w.fixed64(7, String(s.startTimeUnixNano ?? '0'));
  w.fixed64(8, String(s.endTimeUnixNano ?? '0'));
  attributes(w, 9, s.attributes as Json[] | undefined);
  count(w, 10, s.droppedAttributesCount);
  for (const e of (s.events as Json[] | undefined) ?? []) {
    const start = w.begin(11);
    w.fixed64(1, String(e.timeUnixNano ?? '0'));
    w.string(2, String(e.name ?? ''));
    attributes(w, 3, e.attributes as Json[] | undefined);
    count(w, 4, e.droppedAttributesCount);
    w.end(start);
  }
  count(w, 12, s.droppedEventsCount);
  for (const l of (s.links as Json[] | undefined) ?? []) {
    const start = w.begin(13);
    w.hex(1, String(l.traceId ?? ''));
    w.hex(2, String(l.spanId ?? ''));
    if (typeof l.traceState === 'string' && l.traceState) w.string(3, l.traceState);
    attributes(w, 4, l.attributes as Json[] | undefined);
    count(w, 5, l.droppedAttributesCount);
    if (typeof l.flags === 'number' && l.flags !== 0) w.fixed32(6, l.flags);
    w.end(start);
  }
  count(w, 14, s.droppedLinksCount);
  const status = s.status as Json | undefined;
  if (status) {
    const start = w.begin(15);
    if (typeof status.message === 'string' && status.message) w.string(2, status.message);
    if (typeof status.code === 'number' && status.code !== 0) {
      w.tag(3, VARINT);
      w.varint(status.code);
    }
    w.end(start);
  }
  if (typeof s.flags === 'number' && s.flags !== 0) w.fixed32(16, s.flags);
}

/** Protobuf bytes of an ExportTraceServiceRequest given in OTLP/JSON's shape. */
export function protobufFromJsonRequest(req: { resourceSpans?: unknown }, sizeHint = 4096): Buffer {
  const w = new Writer(sizeHint);
  for (const rs of (req.resourceSpans as Json[] | undefined) ?? []) {
    const rStart = w.begin(1);
    const resource = rs.resource as Json | undefined;
    if (resource) {
      const start = w.begin(1);
      attributes(w, 1, resource.attributes as Json[] | undefined);
      count(w, 2, resource.droppedAttributesCount);
      w.end(start);
    }
    for (const ss of (rs.scopeSpans as Json[] | undefined) ?? []) {
      const sStart = w.begin(2);
      const scope = ss.scope as Json | undefined;
      if (scope) {
        const start = w.begin(1);
        if (typeof scope.name === 'string' && scope.name) w.string(1, scope.name);
        if (typeof scope.version === 'string' && scope.version) w.string(2, scope.version);
        attributes(w, 3, scope.attributes as Json[] | undefined);
        count(w, 4, scope.droppedAttributesCount);
        w.end(start);
      }
      for (const s of (ss.spans as Json[] | undefined) ?? []) {
        const start = w.begin(2);
        span(w, s);
        w.end(start);
      }
      if (typeof ss.schemaUrl === 'string' && ss.schemaUrl) w.string(3, ss.schemaUrl);
      w.end(sStart);
    }
    if (typeof rs.schemaUrl === 'string' && rs.schemaUrl) w.string(3, rs.schemaUrl);
    w.end(rStart);
  }
  return w.result();
}

/** Protobuf bytes of a spooled OTLP/JSON request. */
export function protobufFromJson(body: string): Buffer {
  return protobufFromJsonRequest(JSON.parse(body) as { resourceSpans?: unknown }, body.length);
}

/** Protobuf bytes of an ExportTraceServiceRequest holding `spans`. */
export function encodeTraceRequestProtobuf(spans: readonly ReadableSpan[]): Buffer {
  return protobufFromJsonRequest(buildTraceRequest(spans));
}

/**
 * From a protobuf ExportTraceServiceResponse: `partial_success` (field 1) with
 * `rejected_spans` (1, int64) and `error_message` (2). Undefined when none were rejected or
 * the bytes are not such a message.
 */
export function protobufPartialRejection(body: Uint8Array): { rejected: number; message: string } | undefined {
  try {
    const outer = fields(body, 0, body.length);
    const ps = outer.find((f) => f.field === 1 && f.type === LEN);
    if (ps === undefined) return undefined;
    let rejected = 0;
    let message = '';
    for (const f of fields(body, ps.start, ps.end)) {
      if (f.field === 1 && f.type === VARINT) rejected = Number(BigInt.asIntN(64, f.value));
      else if (f.field === 2 && f.type === LEN) message = Buffer.from(body.buffer, body.byteOffset + f.start, f.end - f.start).toString('utf8');
    }
    return rejected > 0 ? { rejected, message } : undefined;
  } catch {
    return undefined;
  }
}

function fields(b: Uint8Array, from: number, to: number): { field: number; type: number; value: bigint; start: number; end: number }[] {
  const out: { field: number; type: number; value: bigint; start: number; end: number }[] = [];
  let p = from;
  const varint = (): bigint => {
    let r = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (p >= to) throw new Error('truncated');
      const x = b[p++] as number;
      r |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) return r;
    }
    throw new Error('bad varint');
  };
  while (p < to) {
    const k = Number(varint());
    const field = k >>> 3;
    const type = k & 7;
    if (type === VARINT) out.push({ field, type, value: varint(), start: 0, end: 0 });
    else if (type === LEN) {
      const n = Number(varint());
      if (p + n > to) throw new Error('truncated');
      out.push({ field, type, value: 0n, start: p, end: p + n });
      p += n;
    } else if (type === I64) p += 8;
    else if (type === I32) p += 4;
    else throw new Error('unknown wire type');
  }
  return out;
}
