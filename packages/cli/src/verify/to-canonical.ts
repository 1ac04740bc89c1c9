import type { CanonicalRecord, CanonicalValue } from '@tooltrail/core/integrity';
import type { TrailAttributes, TrailSpan, TrailValue } from '../trail/record.js';

/** Trail values are JSON already; kvlists (objects) never occur in audit records and hash as null. */
function value(v: TrailValue): CanonicalValue {
  if (Array.isArray(v)) return v.map(value);
  if (v !== null && typeof v === 'object') return null;
  return v;
}

function attributes(attrs: TrailAttributes): Record<string, CanonicalValue> {
  // No prototype: a stored attribute named "__proto__" must be hashed like any other, not
  // swallowed by the assignment below (it would vanish from the hash and could be added freely).
  const out = Object.create(null) as Record<string, CanonicalValue>;
  for (const [k, v] of Object.entries(attrs)) out[k] = value(v);
  return out;
}

/** A stored span as its hash covers it (the inverse of what the producer hashed). */
export function trailToCanonical(span: TrailSpan): CanonicalRecord {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? '',
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    statusCode: span.status.code,
    statusMessage: span.status.message ?? '',
    attributes: attributes(span.attributes),
    events: span.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: attributes(e.attributes) })),
  };
}
