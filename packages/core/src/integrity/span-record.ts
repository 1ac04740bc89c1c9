import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToNanos } from '../export/otlp-json.js';
import type { CanonicalRecord, CanonicalValue } from './canonical.js';

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
