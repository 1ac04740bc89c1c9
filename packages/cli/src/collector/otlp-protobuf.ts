import type { TrailAttributes, TrailScope, TrailSpan, TrailStatus, TrailValue } from '../trail/record.js';
import { ProtoReader, WireType, expectWireType } from './protobuf-reader.js';
import {
  MAX_VALUE_DEPTH,
  OtlpDecodeError,
  TooManySpansError,
  buildSpan,
  doubleValue,
  emptySpanParts,
  eventOf,
  int64Value,
  linkOf,
  scopeOf,
  setAttribute,
  spanKind,
  statusCode,
  uint64String,
  type ResourceParts,
} from './span-shape.js';

/**
 * Decodes an OTLP ExportTraceServiceRequest in protobuf (opentelemetry-proto,
 * collector/trace/v1 and trace/v1). Unknown fields are skipped, as protobuf requires. Fields
 * may arrive in any order, so a message's children are decoded after the whole message is read.
 */
export function decodeProtobufRequest(body: Uint8Array, maxSpans = Infinity): TrailSpan[] {
  const out: TrailSpan[] = [];
  const r = new ProtoReader(body);
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'ExportTraceServiceRequest.resource_spans');
      decodeResourceSpans(r.message(), out, maxSpans);
    } else {
      r.skip(wireType);
    }
  }
  return out;
}

function decodeResourceSpans(r: ProtoReader, out: TrailSpan[], maxSpans: number): void {
  const resource: ResourceParts = { attributes: {}, droppedAttributesCount: 0, schemaUrl: '' };
  const scopeSpans: ProtoReader[] = [];
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'ResourceSpans.resource');
        decodeResource(r.message(), resource);
        break;
      case 2:
        expectWireType(wireType, WireType.LEN, 'ResourceSpans.scope_spans');
        scopeSpans.push(r.message());
        break;
      case 3:
        expectWireType(wireType, WireType.LEN, 'ResourceSpans.schema_url');
        resource.schemaUrl = r.string();
        break;
      default:
        r.skip(wireType);
    }
  }
  for (const ss of scopeSpans) decodeScopeSpans(ss, resource, out, maxSpans);
}

function decodeResource(r: ProtoReader, resource: ResourceParts): void {
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'Resource.attributes');
      decodeKeyValue(r.message(), resource.attributes, 0);
    } else if (field === 2) {
      expectWireType(wireType, WireType.VARINT, 'Resource.dropped_attributes_count');
      resource.droppedAttributesCount = r.uint32();
    } else {
      r.skip(wireType);
    }
  }
}

function decodeScopeSpans(r: ProtoReader, resource: ResourceParts, out: TrailSpan[], maxSpans: number): void {
  let scopeReader: ProtoReader | undefined;
  let schemaUrl = '';
  const spans: ProtoReader[] = [];
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'ScopeSpans.scope');
        scopeReader = r.message();
        break;
      case 2:
        expectWireType(wireType, WireType.LEN, 'ScopeSpans.spans');
        // Counted before any is decoded: a small request of many tiny spans is refused cheaply.
        if (out.length + spans.length >= maxSpans) throw new TooManySpansError(maxSpans);
        spans.push(r.message());
        break;
      case 3:
        expectWireType(wireType, WireType.LEN, 'ScopeSpans.schema_url');
        schemaUrl = r.string();
        break;
      default:
        r.skip(wireType);
    }
  }
  const scope = decodeScope(scopeReader, schemaUrl);
  for (const s of spans) out.push(decodeSpan(s, resource, scope));
}

function decodeScope(r: ProtoReader | undefined, schemaUrl: string): TrailScope {
  let name = '';
  let version = '';
  const attributes: TrailAttributes = {};
  let dropped = 0;
  while (r?.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'InstrumentationScope.name');
        name = r.string();
        break;
      case 2:
        expectWireType(wireType, WireType.LEN, 'InstrumentationScope.version');
        version = r.string();
        break;
      case 3:
        expectWireType(wireType, WireType.LEN, 'InstrumentationScope.attributes');
        decodeKeyValue(r.message(), attributes, 0);
        break;
      case 4:
        expectWireType(wireType, WireType.VARINT, 'InstrumentationScope.dropped_attributes_count');
        dropped = r.uint32();
        break;
      default:
        r.skip(wireType);
    }
  }
  return scopeOf(name, version, attributes, dropped, schemaUrl);
}

function decodeSpan(r: ProtoReader, resource: ResourceParts, scope: TrailScope): TrailSpan {
  const p = emptySpanParts();
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'Span.trace_id');
        p.traceId = id(r.bytes(), 16, 'trace_id');
        break;
      case 2:
        expectWireType(wireType, WireType.LEN, 'Span.span_id');
        p.spanId = id(r.bytes(), 8, 'span_id');
        break;
      case 3:
        expectWireType(wireType, WireType.LEN, 'Span.trace_state');
        p.traceState = r.string();
        break;
      case 4:
        expectWireType(wireType, WireType.LEN, 'Span.parent_span_id');
        p.parentSpanId = optionalId(r.bytes(), 8, 'parent_span_id');
        break;
      case 5:
        expectWireType(wireType, WireType.LEN, 'Span.name');
        p.name = r.string();
        break;
      case 6:
        expectWireType(wireType, WireType.VARINT, 'Span.kind');
        p.kind = spanKind(r.int32());
        break;
      case 7:
        expectWireType(wireType, WireType.FIXED64, 'Span.start_time_unix_nano');
        p.startTimeUnixNano = uint64String(r.fixed64(), 'start_time_unix_nano');
        break;
      case 8:
        expectWireType(wireType, WireType.FIXED64, 'Span.end_time_unix_nano');
        p.endTimeUnixNano = uint64String(r.fixed64(), 'end_time_unix_nano');
        break;
      case 9:
        expectWireType(wireType, WireType.LEN, 'Span.attributes');
        decodeKeyValue(r.message(), p.attributes, 0);
        break;
      case 10:
        expectWireType(wireType, WireType.VARINT, 'Span.dropped_attributes_count');
        p.droppedAttributesCount = r.uint32();
        break;
      case 11:
        expectWireType(wireType, WireType.LEN, 'Span.events');
        p.events.push(decodeEvent(r.message()));
        break;
      case 12:
        expectWireType(wireType, WireType.VARINT, 'Span.dropped_events_count');
        p.droppedEventsCount = r.uint32();
        break;
      case 13:
        expectWireType(wireType, WireType.LEN, 'Span.links');
        p.links.push(decodeLink(r.message()));
        break;
      case 14:
        expectWireType(wireType, WireType.VARINT, 'Span.dropped_links_count');
        p.droppedLinksCount = r.uint32();
        break;
      case 15:
        expectWireType(wireType, WireType.LEN, 'Span.status');
        p.status = decodeStatus(r.message());
        break;
      case 16:
        expectWireType(wireType, WireType.FIXED32, 'Span.flags');
        p.flags = r.fixed32();
        break;
      default:
        r.skip(wireType);
    }
  }
  return buildSpan(resource, scope, p);
}

function decodeEvent(r: ProtoReader) {
  let time = '0';
  let name = '';
  const attributes: TrailAttributes = {};
  let dropped = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.FIXED64, 'Span.Event.time_unix_nano');
        time = uint64String(r.fixed64(), 'event time_unix_nano');
        break;
      case 2:
        expectWireType(wireType, WireType.LEN, 'Span.Event.name');
        name = r.string();
        break;
      case 3:
        expectWireType(wireType, WireType.LEN, 'Span.Event.attributes');
        decodeKeyValue(r.message(), attributes, 0);
        break;
      case 4:
        expectWireType(wireType, WireType.VARINT, 'Span.Event.dropped_attributes_count');
        dropped = r.uint32();
        break;
      default:
        r.skip(wireType);
    }
  }
  return eventOf(time, name, attributes, dropped);
}

function decodeLink(r: ProtoReader) {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  const attributes: TrailAttributes = {};
  let dropped = 0;
  let flags = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'Span.Link.trace_id');
        traceId = id(r.bytes(), 16, 'link trace_id');
        break;
      case 2:
        expectWireType(wireType, WireType.LEN, 'Span.Link.span_id');
        spanId = id(r.bytes(), 8, 'link span_id');
        break;
      case 3:
        expectWireType(wireType, WireType.LEN, 'Span.Link.trace_state');
        traceState = r.string();
        break;
      case 4:
        expectWireType(wireType, WireType.LEN, 'Span.Link.attributes');
        decodeKeyValue(r.message(), attributes, 0);
        break;
      case 5:
        expectWireType(wireType, WireType.VARINT, 'Span.Link.dropped_attributes_count');
        dropped = r.uint32();
        break;
      case 6:
        expectWireType(wireType, WireType.FIXED32, 'Span.Link.flags');
        flags = r.fixed32();
        break;
      default:
        r.skip(wireType);
    }
  }
  if (!traceId || !spanId) throw new OtlpDecodeError('a span link has no trace_id or span_id');
  return linkOf(traceId, spanId, traceState, attributes, dropped, flags);
}

function decodeStatus(r: ProtoReader): TrailStatus {
  let message = '';
  let code = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'Status.message');
      message = r.string();
    } else if (field === 3) {
      expectWireType(wireType, WireType.VARINT, 'Status.code');
      code = r.int32();
    } else {
      // Field 1 is the deprecated `deprecated_code`.
      r.skip(wireType);
    }
  }
  return message ? { code: statusCode(code), message } : { code: statusCode(code) };
}

function decodeKeyValue(r: ProtoReader, into: TrailAttributes, depth: number): void {
  let key = '';
  let value: TrailValue = null;
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'KeyValue.key');
      key = r.string();
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'KeyValue.value');
      value = decodeAnyValue(r.message(), depth + 1);
    } else {
      r.skip(wireType);
    }
  }
  setAttribute(into, key, value);
}

function decodeAnyValue(r: ProtoReader, depth: number): TrailValue {
  if (depth > MAX_VALUE_DEPTH) throw new OtlpDecodeError(`attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
  // A oneof: the last member on the wire wins. No member set is an empty value (null).
  let value: TrailValue = null;
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'AnyValue.string_value');
        value = r.string();
        break;
      case 2:
        expectWireType(wireType, WireType.VARINT, 'AnyValue.bool_value');
        value = r.bool();
        break;
      case 3:
        expectWireType(wireType, WireType.VARINT, 'AnyValue.int_value');
        value = int64Value(BigInt.asIntN(64, r.varint64()));
        break;
      case 4:
        expectWireType(wireType, WireType.FIXED64, 'AnyValue.double_value');
        value = doubleValue(r.double());
        break;
      case 5: {
        expectWireType(wireType, WireType.LEN, 'AnyValue.array_value');
        const arr = r.message();
        const values: TrailValue[] = [];
        while (arr.more()) {
          const t = arr.tag();
          if (t.field === 1) {
            expectWireType(t.wireType, WireType.LEN, 'ArrayValue.values');
            values.push(decodeAnyValue(arr.message(), depth + 1));
          } else {
            arr.skip(t.wireType);
          }
        }
        value = values;
        break;
      }
      case 6: {
        expectWireType(wireType, WireType.LEN, 'AnyValue.kvlist_value');
        const list = r.message();
        const obj: TrailAttributes = {};
        while (list.more()) {
          const t = list.tag();
          if (t.field === 1) {
            expectWireType(t.wireType, WireType.LEN, 'KeyValueList.values');
            decodeKeyValue(list.message(), obj, depth + 1);
          } else {
            list.skip(t.wireType);
          }
        }
        value = obj;
        break;
      }
      case 7:
        expectWireType(wireType, WireType.LEN, 'AnyValue.bytes_value');
        value = Buffer.from(r.bytes()).toString('base64');
        break;
      default:
        r.skip(wireType);
    }
  }
  return value;
}

function id(b: Uint8Array, size: number, what: string): string {
  if (b.length !== size) throw new OtlpDecodeError(`${what} must be ${size} bytes, got ${b.length}`);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function optionalId(b: Uint8Array, size: number, what: string): string {
  return b.length === 0 ? '' : id(b, size, what);
}
