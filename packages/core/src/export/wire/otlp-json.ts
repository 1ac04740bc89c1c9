import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToNanos } from '../../tracing/clock.js';
import { KIND, statusCode } from './otlp-json-bytes.js';

// The byte path (each span encoded once, requests assembled from cached fragments); the object
// path below stays the reference it is tested against, and what protobuf is built from.
export { spanJsonBytes, resourceJsonBytes, scopeJsonBytes } from './otlp-json-bytes.js';
export { traceRequestBytes, encodeTraceRequestBytes, encodedRequestBytes, encodedSpan, type EncodedSpan, type ResourceGroup } from './otlp-json-request.js';

/**
 * OTLP/JSON encoding of spans (opentelemetry-proto's JSON mapping: hex ids, nanosecond times as
 * decimal strings, enums as integers). Our own so the export pipeline holds plain bytes it can
 * spool, retry and replay, and so one encoding serves the collector, Jaeger and Tempo.
 */

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: AnyValue[] } };

export interface OtlpKeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(v: AttributeValue): AnyValue | undefined {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      // int64 where it fits; larger integers (1e21 and up would print as "1e+21") stay doubles.
      if (Number.isSafeInteger(v)) return { intValue: String(v) };
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) return { intValue: BigInt(v).toString() };
      // proto3's JSON mapping writes non-finite doubles as strings (JSON has no NaN).
      return { doubleValue: Number.isFinite(v) ? v : String(v) };
    default:
      if (Array.isArray(v)) {
        const values: AnyValue[] = [];
        for (const item of v) {
          if (item === null || item === undefined) continue;
          const encoded = anyValue(item);
          if (encoded) values.push(encoded);
        }
        return { arrayValue: { values } };
      }
      return undefined;
  }
}

export function encodeAttributes(attrs: Attributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    const value = anyValue(v);
    if (value) out.push({ key, value });
  }
  return out;
}

export function encodeSpan(span: ReadableSpan): Record<string, unknown> {
  const ctx = span.spanContext();
  const out: Record<string, unknown> = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    name: span.name,
    kind: KIND[span.kind] ?? 1,
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    attributes: encodeAttributes(span.attributes),
    status: span.status.message
      ? { code: statusCode(span.status.code), message: span.status.message }
      : { code: statusCode(span.status.code) },
    flags: ctx.traceFlags,
  };
  const parent = span.parentSpanContext?.spanId;
  if (parent) out.parentSpanId = parent;
  if (span.events.length > 0) {
    out.events = span.events.map((e) => ({
      timeUnixNano: hrTimeToNanos(e.time),
      name: e.name,
      attributes: e.attributes ? encodeAttributes(e.attributes) : [],
    }));
  }
  if (span.links.length > 0) {
    out.links = span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: l.attributes ? encodeAttributes(l.attributes) : [],
    }));
  }
  if (span.droppedAttributesCount) out.droppedAttributesCount = span.droppedAttributesCount;
  return out;
}

/**
 * One ExportTraceServiceRequest. Spans are grouped by resource and scope; an auditor has one
 * of each, so the common case is a single group.
 */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(buildTraceRequest(spans));
}

/** The ExportTraceServiceRequest in OTLP/JSON's shape, before it is written as JSON or protobuf. */
export function buildTraceRequest(spans: readonly ReadableSpan[]): { resourceSpans: unknown[] } {
  const byResource = new Map<unknown, { resource: ReadableSpan['resource']; scopes: Map<string, { scope: ReadableSpan['instrumentationScope']; spans: unknown[] }> }>();
  for (const span of spans) {
    let r = byResource.get(span.resource);
    if (!r) {
      r = { resource: span.resource, scopes: new Map() };
      byResource.set(span.resource, r);
    }
    const scopeKey = `${span.instrumentationScope.name}@${span.instrumentationScope.version ?? ''}`;
    let s = r.scopes.get(scopeKey);
    if (!s) {
      s = { scope: span.instrumentationScope, spans: [] };
      r.scopes.set(scopeKey, s);
    }
    s.spans.push(encodeSpan(span));
  }
  const resourceSpans = [];
  for (const r of byResource.values()) {
    resourceSpans.push({
      resource: { attributes: encodeAttributes(r.resource.attributes as Attributes) },
      scopeSpans: Array.from(r.scopes.values(), (s) => ({
        scope: s.scope.version ? { name: s.scope.name, version: s.scope.version } : { name: s.scope.name },
        spans: s.spans,
      })),
    });
  }
  return { resourceSpans };
}
