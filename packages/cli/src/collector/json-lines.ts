import type { RequestLines } from '../trail/request-lines.js';
import { SPAN_KINDS, STATUS_CODES, parseJson, base64, double, enumValue, fail, hexId, integer, list, object, optionalObject, present, signed64, string, uint32, DECIMAL, type Json } from './json-fields.js';
import { AttrText, doubleJson, int64Json, uint64Digits } from './line-text.js';
import { LinesBuilder, scopeJson, type ResourceText, type ScopeText } from './lines-builder.js';
import { MAX_VALUE_DEPTH, TooManySpansError, spanKind, statusCode } from './span-shape.js';

/**
 * OTLP/JSON straight into the stored lines: the same checks, in the same order and with the same
 * messages, as `decodeJsonRequest` followed by `requestLines`, and the same bytes, without the
 * span objects in between (docs/collector.md, "What it accepts").
 */

export interface DecodeLinesOptions {
  maxSpans?: number;
  maxStoredBytes?: number;
  /** When the request was received (read once it has decoded). */
  receivedAt: () => string;
  writer: string | undefined;
}

export function decodeJsonLines(text: string, o: DecodeLinesOptions): RequestLines {
  // The parsed request is garbage once read: not held while the lines are finished.
  return readRequest(text, o).finish(o.receivedAt(), o.writer);
}

function readRequest(text: string, o: DecodeLinesOptions): LinesBuilder {
  const root = parseJson(text);
  const req = object(root, 'the request');
  const out = new LinesBuilder(o.maxStoredBytes);
  const maxSpans = o.maxSpans ?? Infinity;
  const all = list(req.resourceSpans, 'resourceSpans');
  for (let i = 0; i < all.length; i++) resourceSpans(object(all[i], `resourceSpans[${i}]`), `resourceSpans[${i}]`, out, maxSpans);
  return out;
}

function resourceSpans(rs: Json, at: string, out: LinesBuilder, maxSpans: number): void {
  const res = optionalObject(rs.resource, `${at}.resource`);
  const resource: ResourceText = {
    attributes: res ? attributes(res.attributes, `${at}.resource.attributes`).json() : '{}',
    droppedAttributesCount: res ? uint32(res.droppedAttributesCount, `${at}.resource.droppedAttributesCount`) : 0,
    schemaUrl: string(rs.schemaUrl, `${at}.schemaUrl`),
  };
  const all = list(rs.scopeSpans, `${at}.scopeSpans`);
  for (let i = 0; i < all.length; i++) {
    const where = `${at}.scopeSpans[${i}]`;
    const ss = object(all[i], where);
    const s = optionalObject(ss.scope, `${where}.scope`);
    const schemaUrl = string(ss.schemaUrl, `${where}.schemaUrl`);
    const scope: ScopeText = {
      resource,
      json: s
        ? scopeJson(
            string(s.name, `${where}.scope.name`),
            string(s.version, `${where}.scope.version`),
            attributes(s.attributes, `${where}.scope.attributes`),
            uint32(s.droppedAttributesCount, `${where}.scope.droppedAttributesCount`),
            schemaUrl,
          )
        : scopeJson('', '', new AttrText(), 0, schemaUrl),
    };
    const spans = list(ss.spans, `${where}.spans`);
    if (out.spans + spans.length > maxSpans) throw new TooManySpansError(maxSpans);
    for (let j = 0; j < spans.length; j++) out.span(scope, spanRest(object(spans[j], `${where}.spans[${j}]`), `${where}.spans[${j}]`));
  }
}

/** The span's fields after `r` and `s`, checked in line order. */
function spanRest(s: Json, at: string): string {
  let line = `"traceId":"${hexId(s.traceId, 32, `${at}.traceId`)}","spanId":"${hexId(s.spanId, 16, `${at}.spanId`)}"`;
  const parent = s.parentSpanId;
  if (parent !== undefined && parent !== null && parent !== '') line += `,"parentSpanId":"${hexId(parent, 16, `${at}.parentSpanId`)}"`;
  const traceState = string(s.traceState, `${at}.traceState`);
  if (traceState) line += `,"traceState":${JSON.stringify(traceState)}`;
  const flags = uint32(s.flags, `${at}.flags`);
  if (flags) line += `,"flags":${flags}`;
  line += `,"name":${JSON.stringify(string(s.name, `${at}.name`))}`;
  line += `,"kind":${spanKind(enumValue(s.kind, SPAN_KINDS, `${at}.kind`))}`;
  line += `,"startTimeUnixNano":"${uint64(s.startTimeUnixNano, `${at}.startTimeUnixNano`)}"`;
  line += `,"endTimeUnixNano":"${uint64(s.endTimeUnixNano, `${at}.endTimeUnixNano`)}"`;
  line += `,"attributes":${attributes(s.attributes, `${at}.attributes`).json()}`;
  const dropped = uint32(s.droppedAttributesCount, `${at}.droppedAttributesCount`);
  if (dropped) line += `,"droppedAttributesCount":${dropped}`;
  line += `,"events":[${list(s.events, `${at}.events`).map((e, i) => event(object(e, `${at}.events[${i}]`), `${at}.events[${i}]`))}]`;
  const droppedEvents = uint32(s.droppedEventsCount, `${at}.droppedEventsCount`);
  if (droppedEvents) line += `,"droppedEventsCount":${droppedEvents}`;
  line += `,"links":[${list(s.links, `${at}.links`).map((l, i) => link(object(l, `${at}.links[${i}]`), `${at}.links[${i}]`))}]`;
  const droppedLinks = uint32(s.droppedLinksCount, `${at}.droppedLinksCount`);
  if (droppedLinks) line += `,"droppedLinksCount":${droppedLinks}`;
  return `${line},"status":${status(optionalObject(s.status, `${at}.status`), `${at}.status`)}}`;
}

function event(e: Json, at: string): string {
  let out = `{"timeUnixNano":"${uint64(e.timeUnixNano, `${at}.timeUnixNano`)}","name":${JSON.stringify(string(e.name, `${at}.name`))}`;
  out += `,"attributes":${attributes(e.attributes, `${at}.attributes`).json()}`;
  const dropped = uint32(e.droppedAttributesCount, `${at}.droppedAttributesCount`);
  return dropped ? `${out},"droppedAttributesCount":${dropped}}` : `${out}}`;
}

function link(l: Json, at: string): string {
  let out = `{"traceId":"${hexId(l.traceId, 32, `${at}.traceId`)}","spanId":"${hexId(l.spanId, 16, `${at}.spanId`)}"`;
  const traceState = string(l.traceState, `${at}.traceState`);
  if (traceState) out += `,"traceState":${JSON.stringify(traceState)}`;
  out += `,"attributes":${attributes(l.attributes, `${at}.attributes`).json()}`;
  const dropped = uint32(l.droppedAttributesCount, `${at}.droppedAttributesCount`);
  if (dropped) out += `,"droppedAttributesCount":${dropped}`;
  const flags = uint32(l.flags, `${at}.flags`);
  return flags ? `${out},"flags":${flags}}` : `${out}}`;
}

function status(s: Json | undefined, at: string): string {
  if (!s) return '{"code":0}';
  const code = statusCode(enumValue(s.code, STATUS_CODES, `${at}.code`));
  const message = string(s.message, `${at}.message`);
  return message ? `{"code":${code},"message":${JSON.stringify(message)}}` : `{"code":${code}}`;
}

function attributes(v: unknown, at: string): AttrText {
  const out = new AttrText();
  const all = list(v, at);
  for (let i = 0; i < all.length; i++) {
    const pair = object(all[i], `${at}[${i}]`);
    out.set(string(pair.key, `${at}[${i}].key`), anyValue(pair.value, `${at}[${i}].value`, 1));
  }
  return out;
}

/** An AnyValue as JSON text; the first member present decides, none is null. */
function anyValue(v: unknown, at: string, depth: number): string {
  if (depth > MAX_VALUE_DEPTH) fail(`${at}: attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
  const o = optionalObject(v, at);
  if (!o) return 'null';
  const sv = o.stringValue;
  if (present(sv)) return typeof sv === 'string' ? JSON.stringify(sv) : fail(`${at}.stringValue must be a string`);
  if (present(o.boolValue)) return typeof o.boolValue === 'boolean' ? String(o.boolValue) : fail(`${at}.boolValue must be a boolean`);
  if (present(o.intValue)) return int64(o.intValue, `${at}.intValue`);
  if (present(o.doubleValue)) return doubleJson(double(o.doubleValue, `${at}.doubleValue`));
  if (present(o.arrayValue)) {
    const arr = object(o.arrayValue, `${at}.arrayValue`);
    return `[${list(arr.values, `${at}.arrayValue.values`).map((x, i) => anyValue(x, `${at}.arrayValue.values[${i}]`, depth + 1))}]`;
  }
  if (present(o.kvlistValue)) {
    const kvl = object(o.kvlistValue, `${at}.kvlistValue`);
    const out = new AttrText();
    const all = list(kvl.values, `${at}.kvlistValue.values`);
    for (let i = 0; i < all.length; i++) {
      const pair = object(all[i], `${at}.kvlistValue.values[${i}]`);
      out.set(string(pair.key, `${at}.kvlistValue.values[${i}].key`), anyValue(pair.value, `${at}.kvlistValue.values[${i}].value`, depth + 1));
    }
    return out.json();
  }
  if (present(o.bytesValue)) return JSON.stringify(base64(o.bytesValue, `${at}.bytesValue`));
  return 'null';
}

/** An int64 attribute value; BigInt only for what a double cannot hold exactly. */
function int64(v: unknown, at: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'string' && v.length <= 16 && DECIMAL.test(v) && v.length - (v[0] === '-' ? 1 : 0) <= 15) return String(Number(v));
  return int64Json(signed64(integer(v, at), at));
}

/** A uint64 field (times) as decimal digits; BigInt only for a JSON number past 2^53. */
function uint64(v: unknown, at: string): string {
  if (typeof v === 'string' && DECIMAL.test(v)) return uint64Digits(v, at);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  const n = integer(v, at);
  return uint64Digits(n.toString(), at);
}
