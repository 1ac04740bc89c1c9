/**
 * The trail's line format: one span per line, UTF-8 JSON, `\n`-terminated. This is a contract
 * (docs/collector.md): `tooltrail verify` and the demo read these lines. Changes are additive
 * only (new optional fields); readers ignore fields they do not know.
 */

/**
 * An OTLP AnyValue as JSON: string, bool and double as themselves (NaN and ±Infinity as the
 * strings `"NaN"`, `"Infinity"`, `"-Infinity"`), int64 as a number when it is a safe integer
 * and a decimal string otherwise, bytes as base64, array as an array, kvlist as an object, an
 * empty AnyValue as null.
 */
export type TrailValue = string | number | boolean | null | TrailValue[] | { [key: string]: TrailValue };

/** Attributes as a JSON object, in the order received; a repeated key keeps its last value. */
export interface TrailAttributes {
  [key: string]: TrailValue;
}

export interface TrailScope {
  name: string;
  version?: string;
  attributes?: TrailAttributes;
  droppedAttributesCount?: number;
  /** The ScopeSpans' schema_url. */
  schemaUrl?: string;
}

export interface TrailEvent {
  /** Nanoseconds since the Unix epoch, decimal string (int64 exceeds 2^53). */
  timeUnixNano: string;
  name: string;
  attributes: TrailAttributes;
  droppedAttributesCount?: number;
}

export interface TrailLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes: TrailAttributes;
  droppedAttributesCount?: number;
  flags?: number;
}

/** OTLP status codes: 0 UNSET, 1 OK, 2 ERROR. */
export type TrailStatusCode = 0 | 1 | 2;

export interface TrailStatus {
  code: TrailStatusCode;
  message?: string;
}

/** A span as the collector decoded it, before it is stamped with `receivedAt`. */
export interface TrailSpan {
  /** Resource attributes, e.g. `service.name`. */
  resource: TrailAttributes;
  resourceDroppedAttributesCount?: number;
  /** The ResourceSpans' schema_url. */
  resourceSchemaUrl?: string;
  scope: TrailScope;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** 16 lowercase hex digits; absent for a root span. */
  parentSpanId?: string;
  traceState?: string;
  /** OTLP span flags (W3C trace flags in the low byte); absent when 0. */
  flags?: number;
  name: string;
  /** OTLP SpanKind: 0 UNSPECIFIED, 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  /** Nanoseconds since the Unix epoch, decimal string. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: TrailAttributes;
  droppedAttributesCount?: number;
  events: TrailEvent[];
  droppedEventsCount?: number;
  links: TrailLink[];
  droppedLinksCount?: number;
  status: TrailStatus;
}

/** One line of a trail file. */
export interface TrailRecord extends TrailSpan {
  /** When the collector received the request, ISO 8601 UTC with milliseconds. */
  receivedAt: string;
}

/** The line for a span: `receivedAt` first, then the span's fields in a fixed order. */
export function formatRecord(receivedAt: string, span: TrailSpan): string {
  return `${JSON.stringify({ receivedAt, ...span })}\n`;
}

/** Checks the fields every reader relies on; the rest is trusted as written by the collector. */
export function isTrailRecord(value: unknown): value is TrailRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.receivedAt === 'string' &&
    typeof r.traceId === 'string' &&
    typeof r.spanId === 'string' &&
    typeof r.name === 'string' &&
    typeof r.kind === 'number' &&
    typeof r.startTimeUnixNano === 'string' &&
    typeof r.endTimeUnixNano === 'string' &&
    isPlainObject(r.resource) &&
    isPlainObject(r.scope) &&
    isPlainObject(r.attributes) &&
    Array.isArray(r.events) &&
    Array.isArray(r.links) &&
    isPlainObject(r.status)
  );
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
