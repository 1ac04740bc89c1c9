import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToNanos } from '../tracing/clock.js';
import { RECORD_VERSION, UNHASHED_ATTRIBUTES, type CanonicalRecord, type CanonicalValue } from './canonical.js';

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

/**
 * The canonical encoding of a span in one pass, without building the intermediate record: the
 * chain's hot path. Produces exactly canonicalRecordJson(spanToCanonical(span)) (asserted in the
 * tests), just with fewer copies.
 */
export function spanCanonicalJson(span: ReadableSpan): string {
  const ctx = span.spanContext();
  const attrs = span.attributes;
  const keys = Object.keys(attrs);
  keys.sort();
  const pairs: [string, CanonicalValue][] = [];
  for (const k of keys) {
    const v = attrs[k];
    if (v === undefined || v === null || UNHASHED_ATTRIBUTES.has(k)) continue;
    pairs.push([k, typeof v === 'number' && !Number.isFinite(v) ? String(v) : Array.isArray(v) ? (attributeValue(v) as CanonicalValue) : (v as CanonicalValue)]);
  }
  const events =
    span.events.length === 0
      ? []
      : span.events.map((e) => {
          const a = e.attributes ? canonicalAttributes(e.attributes) : {};
          return [e.name, hrTimeToNanos(e.time), Object.keys(a).sort().map((k) => [k, normalise(a[k] as CanonicalValue)])];
        });
  return JSON.stringify([
    RECORD_VERSION,
    ctx.traceId,
    ctx.spanId,
    span.parentSpanContext?.spanId ?? '',
    span.name,
    span.kind + 1,
    hrTimeToNanos(span.startTime),
    hrTimeToNanos(span.endTime),
    span.status.code,
    span.status.message ?? '',
    pairs,
    events,
  ]);
}

function normalise(v: CanonicalValue): CanonicalValue {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}
