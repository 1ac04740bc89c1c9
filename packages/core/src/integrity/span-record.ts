import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToNanos } from '../tracing/clock.js';
import { ESCAPED_VALUES, type EscapedValues } from '../payload/safe-json.js';
import { RECORD_VERSION, type CanonicalRecord, type CanonicalValue } from './canonical.js';
import { shapeOf } from './record-shapes.js';

/**
 * A span as its hash sees it: the same values the OTLP/JSON encoder sends (integers as numbers,
 * null array items dropped), so a verifier reading the collector's copy gets the same bytes.
 */
function attributeValue(v: AttributeValue): CanonicalValue {
  if (Array.isArray(v)) {
    const out: CanonicalValue[] = [];
    for (const item of v) if (item !== null && item !== undefined) out.push(item as CanonicalValue);
    return out;
  }
  return v as CanonicalValue;
}

export function canonicalAttributes(attrs: Attributes): Record<string, CanonicalValue> {
  const out: Record<string, CanonicalValue> = {};
  for (const key in attrs) {
    const v = attrs[key];
    if (v !== undefined && v !== null) out[key] = attributeValue(v);
  }
  return out;
}

export function spanToCanonical(span: ReadableSpan): CanonicalRecord {
  const ctx = span.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    statusCode: span.status.code,
    statusMessage: span.status.message ?? '',
    attributes: canonicalAttributes(span.attributes),
    events: span.events.map((e) => ({
      name: e.name,
      timeUnixNano: hrTimeToNanos(e.time),
      attributes: e.attributes ? canonicalAttributes(e.attributes) : {},
    })),
  };
}

/** `["tooltrail-record-v1",` : every canonical record starts with it. */
const HEAD = `[${JSON.stringify(RECORD_VERSION)},`;

/** An element of the canonical array as JSON.stringify writes it (undefined as null). */
function el(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

/** An attribute value's canonical JSON (what `sortedPairs` + JSON.stringify give for it). */
function valueJson(v: AttributeValue): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : `"${String(v)}"`;
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return el(Array.isArray(v) ? normalise(attributeValue(v)) : v);
  }
}

/**
 * The canonical encoding of a span in one pass, without building the intermediate record: the
 * chain's hot path. Produces exactly canonicalRecordJson(spanToCanonical(span)) (asserted in the
 * tests). Attribute names are sorted once per shape (record-shapes.ts), each value escaped once,
 * and the escaped string values are left on the record for the OTLP/JSON encoder.
 */
export function spanCanonicalJson(span: ReadableSpan): string {
  const ctx = span.spanContext();
  const attrs = span.attributes;
  const shape = shapeOf(Object.keys(attrs));
  const { keys, order, prefixes } = shape;
  const pairs: unknown[] = new Array(2 * keys.length);
  let body = '';
  for (let j = 0; j < order.length; j++) {
    const i = order[j] as number;
    const v = attrs[keys[i] as string];
    if (v === undefined || v === null) continue;
    let json: string;
    if (typeof v === 'string') {
      json = JSON.stringify(v);
      pairs[2 * i] = v;
      pairs[2 * i + 1] = json;
    } else json = valueJson(v);
    body += body === '' ? `${prefixes[j] as string}${json}]` : `,${prefixes[j] as string}${json}]`;
  }
  if (Object.isExtensible(span)) (span as ReadableSpan & { [ESCAPED_VALUES]?: EscapedValues })[ESCAPED_VALUES] = { keys, pairs };
  const events =
    span.events.length === 0
      ? '[]'
      : JSON.stringify(
          span.events.map((e) => {
            const a = e.attributes ? canonicalAttributes(e.attributes) : {};
            return [e.name, hrTimeToNanos(e.time), Object.keys(a).sort().map((k) => [k, normalise(a[k] as CanonicalValue)])];
          }),
        );
  return (
    `${HEAD}${el(ctx.traceId)},${el(ctx.spanId)},${el(span.parentSpanContext?.spanId ?? '')},${el(span.name)},${el(span.kind + 1)}` +
    `,"${hrTimeToNanos(span.startTime)}","${hrTimeToNanos(span.endTime)}",${el(span.status.code)},${el(span.status.message ?? '')}` +
    `,[${body}],${events}]`
  );
}

function normalise(v: CanonicalValue): CanonicalValue {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}
