import type {
  TrailAttributes,
  TrailEvent,
  TrailLink,
  TrailScope,
  TrailSpan,
  TrailStatus,
  TrailStatusCode,
  TrailValue,
} from '../trail/record.js';

/**
 * What the JSON and protobuf decoders share: value conversions and the one place that gives a
 * decoded span its field order, so both encodings produce byte-identical lines.
 */

/** A request the collector refuses as malformed (HTTP 400); nothing of it is written. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

/** A request with more spans than the collector takes in one (HTTP 413), found before they are built. */
export class TooManySpansError extends Error {
  override readonly name = 'TooManySpansError';
  constructor(readonly limit: number) {
    super(`the request holds more than ${limit} spans (--max-spans); send fewer spans per request`);
  }
}

/** AnyValue nesting beyond this is refused: decoding recurses, and no real attribute is that deep. */
export const MAX_VALUE_DEPTH = 64;

const MAX_UINT64 = (1n << 64n) - 1n;

/** Sets a key even when it is `__proto__`, which plain assignment would treat as the prototype. */
export function setAttribute(target: TrailAttributes, key: string, value: TrailValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** int64 as a JSON number when exact, else as a decimal string. */
export function int64Value(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** JSON has no NaN or Infinity; they become strings. */
export function doubleValue(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export function uint64String(v: bigint, what: string): string {
  if (v < 0n || v > MAX_UINT64) throw new OtlpDecodeError(`${what} is out of range for uint64`);
  return v.toString();
}

export function spanKind(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 5) throw new OtlpDecodeError(`span kind ${v} is not an OTLP SpanKind (0-5)`);
  return v;
}

export function statusCode(v: number): TrailStatusCode {
  if (v === 0 || v === 1 || v === 2) return v;
  throw new OtlpDecodeError(`status code ${v} is not an OTLP status code (0 UNSET, 1 OK, 2 ERROR)`);
}

export interface ResourceParts {
  attributes: TrailAttributes;
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface SpanParts {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: TrailAttributes;
  droppedAttributesCount: number;
  events: TrailEvent[];
  droppedEventsCount: number;
  links: TrailLink[];
  droppedLinksCount: number;
  status: TrailStatus;
}

export function emptySpanParts(): SpanParts {
  return {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0 },
  };
}

export function scopeOf(name: string, version: string, attributes: TrailAttributes, dropped: number, schemaUrl: string): TrailScope {
  const scope: TrailScope = { name };
  if (version) scope.version = version;
  if (Object.keys(attributes).length > 0) scope.attributes = attributes;
  if (dropped) scope.droppedAttributesCount = dropped;
  if (schemaUrl) scope.schemaUrl = schemaUrl;
  return scope;
}

export function linkOf(
  traceId: string,
  spanId: string,
  traceState: string,
  attributes: TrailAttributes,
  dropped: number,
  flags: number,
): TrailLink {
  const link = { traceId, spanId } as TrailLink;
  if (traceState) link.traceState = traceState;
  link.attributes = attributes;
  if (dropped) link.droppedAttributesCount = dropped;
  if (flags) link.flags = flags;
  return link;
}

export function eventOf(timeUnixNano: string, name: string, attributes: TrailAttributes, dropped: number): TrailEvent {
  const event: TrailEvent = { timeUnixNano, name, attributes };
  if (dropped) event.droppedAttributesCount = dropped;
  return event;
}

/** The span in line order; zero counts and empty optional strings are left out. */
export function buildSpan(resource: ResourceParts, scope: TrailScope, p: SpanParts): TrailSpan {
  if (p.traceId.length !== 32) throw new OtlpDecodeError(`span "${p.name}" has no valid trace id`);
  if (p.spanId.length !== 16) throw new OtlpDecodeError(`span "${p.name}" has no valid span id`);
  const span = { resource: resource.attributes } as TrailSpan;
  if (resource.droppedAttributesCount) span.resourceDroppedAttributesCount = resource.droppedAttributesCount;
  if (resource.schemaUrl) span.resourceSchemaUrl = resource.schemaUrl;
  span.scope = scope;
  span.traceId = p.traceId;
  span.spanId = p.spanId;
  if (p.parentSpanId) span.parentSpanId = p.parentSpanId;
  if (p.traceState) span.traceState = p.traceState;
  if (p.flags) span.flags = p.flags;
  span.name = p.name;
  span.kind = p.kind;
  span.startTimeUnixNano = p.startTimeUnixNano;
  span.endTimeUnixNano = p.endTimeUnixNano;
  span.attributes = p.attributes;
  if (p.droppedAttributesCount) span.droppedAttributesCount = p.droppedAttributesCount;
  span.events = p.events;
  if (p.droppedEventsCount) span.droppedEventsCount = p.droppedEventsCount;
  span.links = p.links;
  if (p.droppedLinksCount) span.droppedLinksCount = p.droppedLinksCount;
  span.status = p.status;
  return span;
}
