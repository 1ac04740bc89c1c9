import type { TrailAttributes, TrailEvent, TrailLink, TrailScope, TrailSpan, TrailStatus, TrailValue } from '../trail/record.js';
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
import { SPAN_KINDS, STATUS_CODES, parseJson, base64, double, enumValue, fail, hexId, integer, list, object, optionalObject, present, signed64, string, uint32, type Json } from './json-fields.js';

/**
 * Decodes an OTLP/JSON ExportTraceServiceRequest (the protobuf JSON mapping as OTLP specifies
 * it: lowerCamelCase keys, hex trace and span ids, 64-bit integers as strings or numbers, enums
 * as integers; enum names are accepted too). Unknown keys are ignored and `null` means absent,
 * as proto3 JSON requires.
 */
export function decodeJsonRequest(text: string, maxSpans = Infinity): TrailSpan[] {
  const root = parseJson(text);
  const req = object(root, 'the request');
  const out: TrailSpan[] = [];
  for (const [i, rs] of list(req.resourceSpans, 'resourceSpans').entries()) {
    decodeResourceSpans(object(rs, `resourceSpans[${i}]`), `resourceSpans[${i}]`, out, maxSpans);
  }
  return out;
}

function decodeResourceSpans(rs: Json, at: string, out: TrailSpan[], maxSpans: number): void {
  const res = optionalObject(rs.resource, `${at}.resource`);
  const resource: ResourceParts = {
    attributes: res ? attributes(res.attributes, `${at}.resource.attributes`) : {},
    droppedAttributesCount: res ? uint32(res.droppedAttributesCount, `${at}.resource.droppedAttributesCount`) : 0,
    schemaUrl: string(rs.schemaUrl, `${at}.schemaUrl`),
  };
  for (const [i, ss] of list(rs.scopeSpans, `${at}.scopeSpans`).entries()) {
    const where = `${at}.scopeSpans[${i}]`;
    const scopeSpans = object(ss, where);
    const scope = decodeScope(optionalObject(scopeSpans.scope, `${where}.scope`), string(scopeSpans.schemaUrl, `${where}.schemaUrl`), where);
    const spans = list(scopeSpans.spans, `${where}.spans`);
    if (out.length + spans.length > maxSpans) throw new TooManySpansError(maxSpans);
    for (const [j, span] of spans.entries()) {
      out.push(decodeSpan(object(span, `${where}.spans[${j}]`), resource, scope, `${where}.spans[${j}]`));
    }
  }
}

function decodeScope(s: Json | undefined, schemaUrl: string, at: string): TrailScope {
  if (!s) return scopeOf('', '', {}, 0, schemaUrl);
  return scopeOf(
    string(s.name, `${at}.scope.name`),
    string(s.version, `${at}.scope.version`),
    attributes(s.attributes, `${at}.scope.attributes`),
    uint32(s.droppedAttributesCount, `${at}.scope.droppedAttributesCount`),
    schemaUrl,
  );
}

function decodeSpan(s: Json, resource: ResourceParts, scope: TrailScope, at: string): TrailSpan {
  const p = emptySpanParts();
  p.traceId = hexId(s.traceId, 32, `${at}.traceId`);
  p.spanId = hexId(s.spanId, 16, `${at}.spanId`);
  p.parentSpanId = s.parentSpanId === undefined || s.parentSpanId === null || s.parentSpanId === '' ? '' : hexId(s.parentSpanId, 16, `${at}.parentSpanId`);
  p.traceState = string(s.traceState, `${at}.traceState`);
  p.flags = uint32(s.flags, `${at}.flags`);
  p.name = string(s.name, `${at}.name`);
  p.kind = spanKind(enumValue(s.kind, SPAN_KINDS, `${at}.kind`));
  p.startTimeUnixNano = uint64String(integer(s.startTimeUnixNano, `${at}.startTimeUnixNano`), `${at}.startTimeUnixNano`);
  p.endTimeUnixNano = uint64String(integer(s.endTimeUnixNano, `${at}.endTimeUnixNano`), `${at}.endTimeUnixNano`);
  p.attributes = attributes(s.attributes, `${at}.attributes`);
  p.droppedAttributesCount = uint32(s.droppedAttributesCount, `${at}.droppedAttributesCount`);
  p.events = list(s.events, `${at}.events`).map((e, i) => decodeEvent(object(e, `${at}.events[${i}]`), `${at}.events[${i}]`));
  p.droppedEventsCount = uint32(s.droppedEventsCount, `${at}.droppedEventsCount`);
  p.links = list(s.links, `${at}.links`).map((l, i) => decodeLink(object(l, `${at}.links[${i}]`), `${at}.links[${i}]`));
  p.droppedLinksCount = uint32(s.droppedLinksCount, `${at}.droppedLinksCount`);
  p.status = decodeStatus(optionalObject(s.status, `${at}.status`), `${at}.status`);
  return buildSpan(resource, scope, p);
}

function decodeEvent(e: Json, at: string): TrailEvent {
  return eventOf(
    uint64String(integer(e.timeUnixNano, `${at}.timeUnixNano`), `${at}.timeUnixNano`),
    string(e.name, `${at}.name`),
    attributes(e.attributes, `${at}.attributes`),
    uint32(e.droppedAttributesCount, `${at}.droppedAttributesCount`),
  );
}

function decodeLink(l: Json, at: string): TrailLink {
  return linkOf(
    hexId(l.traceId, 32, `${at}.traceId`),
    hexId(l.spanId, 16, `${at}.spanId`),
    string(l.traceState, `${at}.traceState`),
    attributes(l.attributes, `${at}.attributes`),
    uint32(l.droppedAttributesCount, `${at}.droppedAttributesCount`),
    uint32(l.flags, `${at}.flags`),
  );
}

function decodeStatus(s: Json | undefined, at: string): TrailStatus {
  if (!s) return { code: 0 };
  const code = statusCode(enumValue(s.code, STATUS_CODES, `${at}.code`));
  const message = string(s.message, `${at}.message`);
  return message ? { code, message } : { code };
}

function attributes(v: unknown, at: string): TrailAttributes {
  const out: TrailAttributes = {};
  for (const [i, kv] of list(v, at).entries()) {
    const pair = object(kv, `${at}[${i}]`);
    setAttribute(out, string(pair.key, `${at}[${i}].key`), anyValue(pair.value, `${at}[${i}].value`, 1));
  }
  return out;
}

function anyValue(v: unknown, at: string, depth: number): TrailValue {
  if (depth > MAX_VALUE_DEPTH) throw new OtlpDecodeError(`${at}: attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
  const o = optionalObject(v, at);
  if (!o) return null;
  // A oneof: the first member present decides; an AnyValue with none set is empty (null).
  if (present(o.stringValue)) return typeof o.stringValue === 'string' ? o.stringValue : fail(`${at}.stringValue must be a string`);
  if (present(o.boolValue)) return typeof o.boolValue === 'boolean' ? o.boolValue : fail(`${at}.boolValue must be a boolean`);
  if (present(o.intValue)) return int64Value(signed64(integer(o.intValue, `${at}.intValue`), `${at}.intValue`));
  if (present(o.doubleValue)) return doubleValue(double(o.doubleValue, `${at}.doubleValue`));
  if (present(o.arrayValue)) {
    const arr = object(o.arrayValue, `${at}.arrayValue`);
    return list(arr.values, `${at}.arrayValue.values`).map((x, i) => anyValue(x, `${at}.arrayValue.values[${i}]`, depth + 1));
  }
  if (present(o.kvlistValue)) {
    const kvl = object(o.kvlistValue, `${at}.kvlistValue`);
    const out: TrailAttributes = {};
    for (const [i, kv] of list(kvl.values, `${at}.kvlistValue.values`).entries()) {
      const pair = object(kv, `${at}.kvlistValue.values[${i}]`);
      setAttribute(out, string(pair.key, `${at}.kvlistValue.values[${i}].key`), anyValue(pair.value, `${at}.kvlistValue.values[${i}].value`, depth + 1));
    }
    return out;
  }
  if (present(o.bytesValue)) return base64(o.bytesValue, `${at}.bytesValue`);
  return null;
}
