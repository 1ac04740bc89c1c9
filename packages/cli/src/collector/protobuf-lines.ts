import type { RequestLines } from '../trail/request-lines.js';
import type { DecodeLinesOptions } from './json-lines.js';
import { AttrText } from './line-text.js';
import { LinesBuilder, scopeJson, type ResourceText, type ScopeText } from './lines-builder.js';
import { ProtoReader, WireType, expectWireType } from './protobuf-reader.js';
import { decodeEvent, decodeKeyValue, decodeLink, decodeStatus, hexId, optionalHexId } from './protobuf-values.js';
import { OtlpDecodeError, TooManySpansError, spanKind } from './span-shape.js';

/**
 * A protobuf ExportTraceServiceRequest straight into the stored lines: the same checks, in the
 * same order, as `decodeProtobufRequest` followed by `requestLines`, and the same bytes. Fields
 * may arrive in any order, so a message's children are decoded after the whole message is read.
 */
export function decodeProtobufLines(body: Uint8Array, o: DecodeLinesOptions): RequestLines {
  const out = new LinesBuilder(o.maxStoredBytes);
  const maxSpans = o.maxSpans ?? Infinity;
  const r = new ProtoReader(body);
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'ExportTraceServiceRequest.resource_spans');
      resourceSpans(r.message(), out, maxSpans);
    } else {
      r.skip(wireType);
    }
  }
  return out.finish(o.receivedAt(), o.writer);
}

function resourceSpans(r: ProtoReader, out: LinesBuilder, maxSpans: number): void {
  const attributes = new AttrText();
  let dropped = 0;
  let schemaUrl = '';
  const scopeSpans: ProtoReader[] = [];
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'ResourceSpans.resource');
      dropped = resource(r.message(), attributes, dropped);
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'ResourceSpans.scope_spans');
      scopeSpans.push(r.message());
    } else if (field === 3) {
      expectWireType(wireType, WireType.LEN, 'ResourceSpans.schema_url');
      schemaUrl = r.string();
    } else {
      r.skip(wireType);
    }
  }
  const text: ResourceText = { attributes: attributes.json(), droppedAttributesCount: dropped, schemaUrl };
  for (const ss of scopeSpans) scopeSpansOf(ss, text, out, maxSpans);
}

/** Reads a Resource into `attributes` (repeated Resource fields merge); returns its dropped count. */
function resource(r: ProtoReader, attributes: AttrText, dropped: number): number {
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'Resource.attributes');
      decodeKeyValue(r.message(), attributes, 0);
    } else if (field === 2) {
      expectWireType(wireType, WireType.VARINT, 'Resource.dropped_attributes_count');
      dropped = r.uint32();
    } else {
      r.skip(wireType);
    }
  }
  return dropped;
}

function scopeSpansOf(r: ProtoReader, resource: ResourceText, out: LinesBuilder, maxSpans: number): void {
  let scopeReader: ProtoReader | undefined;
  let schemaUrl = '';
  const spans: ProtoReader[] = [];
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'ScopeSpans.scope');
      scopeReader = r.message();
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'ScopeSpans.spans');
      // Counted before any is decoded: a small request of many tiny spans is refused cheaply.
      if (out.spans + spans.length >= maxSpans) throw new TooManySpansError(maxSpans);
      spans.push(r.message());
    } else if (field === 3) {
      expectWireType(wireType, WireType.LEN, 'ScopeSpans.schema_url');
      schemaUrl = r.string();
    } else {
      r.skip(wireType);
    }
  }
  const scope: ScopeText = { resource, json: scopeOf(scopeReader, schemaUrl) };
  for (const s of spans) out.span(scope, spanRest(s));
}

function scopeOf(r: ProtoReader | undefined, schemaUrl: string): string {
  let name = '';
  let version = '';
  const attributes = new AttrText();
  let dropped = 0;
  while (r?.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'InstrumentationScope.name');
      name = r.string();
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'InstrumentationScope.version');
      version = r.string();
    } else if (field === 3) {
      expectWireType(wireType, WireType.LEN, 'InstrumentationScope.attributes');
      decodeKeyValue(r.message(), attributes, 0);
    } else if (field === 4) {
      expectWireType(wireType, WireType.VARINT, 'InstrumentationScope.dropped_attributes_count');
      dropped = r.uint32();
    } else {
      r.skip(wireType);
    }
  }
  return scopeJson(name, version, attributes, dropped, schemaUrl);
}

/** Span field numbers (trace/v1 Span) with the wire type each must arrive with. */
const SPAN_WIRE: readonly (number | undefined)[] = [
  undefined,
  WireType.LEN, WireType.LEN, WireType.LEN, WireType.LEN, WireType.LEN, // 1-5 ids, trace_state, parent, name
  WireType.VARINT, WireType.FIXED64, WireType.FIXED64, WireType.LEN, WireType.VARINT, // 6-10
  WireType.LEN, WireType.VARINT, WireType.LEN, WireType.VARINT, WireType.LEN, WireType.FIXED32, // 11-16
];
const SPAN_FIELD = [
  '', 'trace_id', 'span_id', 'trace_state', 'parent_span_id', 'name', 'kind', 'start_time_unix_nano', 'end_time_unix_nano',
  'attributes', 'dropped_attributes_count', 'events', 'dropped_events_count', 'links', 'dropped_links_count', 'status', 'flags',
];

/** The span's fields after `r` and `s`; repeated scalar fields keep the last, as protobuf does. */
function spanRest(r: ProtoReader): string {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  let parent = '';
  let name = '';
  let kind = 0;
  let start = '0';
  let end = '0';
  const attributes = new AttrText();
  let dropped = 0;
  const events: string[] = [];
  let droppedEvents = 0;
  const links: string[] = [];
  let droppedLinks = 0;
  let status = '{"code":0}';
  let flags = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    const wire = SPAN_WIRE[field];
    if (wire === undefined) {
      r.skip(wireType);
      continue;
    }
    expectWireType(wireType, wire, `Span.${SPAN_FIELD[field]}`);
    switch (field) {
      case 1: traceId = hexId(r.bytes(), 16, 'trace_id'); break;
      case 2: spanId = hexId(r.bytes(), 8, 'span_id'); break;
      case 3: traceState = r.string(); break;
      case 4: parent = optionalHexId(r.bytes(), 8, 'parent_span_id'); break;
      case 5: name = r.string(); break;
      case 6: kind = spanKind(r.int32()); break;
      case 7: start = r.fixed64Text(); break;
      case 8: end = r.fixed64Text(); break;
      case 9: decodeKeyValue(r.message(), attributes, 0); break;
      case 10: dropped = r.uint32(); break;
      case 11: events.push(decodeEvent(r.message())); break;
      case 12: droppedEvents = r.uint32(); break;
      case 13: links.push(decodeLink(r.message())); break;
      case 14: droppedLinks = r.uint32(); break;
      case 15: status = decodeStatus(r.message()); break;
      default: flags = r.fixed32();
    }
  }
  if (traceId.length !== 32) throw new OtlpDecodeError(`span "${name}" has no valid trace id`);
  if (spanId.length !== 16) throw new OtlpDecodeError(`span "${name}" has no valid span id`);
  let line = `"traceId":"${traceId}","spanId":"${spanId}"`;
  if (parent) line += `,"parentSpanId":"${parent}"`;
  if (traceState) line += `,"traceState":${JSON.stringify(traceState)}`;
  if (flags) line += `,"flags":${flags}`;
  line += `,"name":${JSON.stringify(name)},"kind":${kind},"startTimeUnixNano":"${start}","endTimeUnixNano":"${end}","attributes":${attributes.json()}`;
  if (dropped) line += `,"droppedAttributesCount":${dropped}`;
  line += `,"events":[${events.join(',')}]`;
  if (droppedEvents) line += `,"droppedEventsCount":${droppedEvents}`;
  line += `,"links":[${links.join(',')}]`;
  if (droppedLinks) line += `,"droppedLinksCount":${droppedLinks}`;
  return `${line},"status":${status}}`;
}
