import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { buildTraceRequest } from './otlp-json.js';
import { I32, I64, key, LEN, VARINT, Writer } from './protobuf-writer.js';

/**
 * OTLP/protobuf encoding of an ExportTraceServiceRequest (opentelemetry-proto,
 * collector/trace/v1 and trace/v1), written by hand: the wire format is small and needs no
 * schema compiler. It encodes the request in OTLP/JSON's shape (what the spool holds, see
 * docs/export.md), so a spooled request, however old, is sent as protobuf with exactly the
 * spans the JSON would carry: hex ids become bytes, decimal nanosecond strings fixed64,
 * `intValue` strings int64 varints.
 */

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

export { protobufPartialRejection } from './protobuf-answer.js';
