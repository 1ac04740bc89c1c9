import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resourceJsonBytes, scopeJsonBytes, spanJsonBytes } from './otlp-json-bytes.js';

/**
 * ExportTraceServiceRequests assembled from bytes: the envelope written around spans' cached
 * fragments into one Buffer, the length known before anything is copied.
 */

const OPEN = Buffer.from('{"resourceSpans":[');
const RESOURCE = Buffer.from('{"resource":');
const SCOPE_SPANS = Buffer.from(',"scopeSpans":[');
const SCOPE = Buffer.from('{"scope":');
const SPANS = Buffer.from(',"spans":[');
const CLOSE_SCOPE = Buffer.from(']}');
const CLOSE_RESOURCE = Buffer.from(']}');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');

/** Spans of one resource, grouped by scope. */
export interface ResourceGroup {
  resource: Buffer;
  scopes: { scope: Buffer; fragments: readonly Buffer[] }[];
}

function groupLength(g: ResourceGroup): number {
  let n = RESOURCE.length + g.resource.length + SCOPE_SPANS.length + CLOSE_RESOURCE.length + Math.max(0, g.scopes.length - 1);
  for (const s of g.scopes) {
    n += SCOPE.length + s.scope.length + SPANS.length + CLOSE_SCOPE.length + Math.max(0, s.fragments.length - 1);
    for (const f of s.fragments) n += f.length;
  }
  return n;
}

/** The request for resource groups, in one allocation. */
export function requestBytes(groups: readonly ResourceGroup[]): Buffer {
  let total = OPEN.length + CLOSE.length + Math.max(0, groups.length - 1);
  for (const g of groups) total += groupLength(g);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  const put = (b: Buffer): void => {
    at += b.copy(out, at);
  };
  put(OPEN);
  groups.forEach((g, gi) => {
    if (gi > 0) put(COMMA);
    put(RESOURCE);
    put(g.resource);
    put(SCOPE_SPANS);
    g.scopes.forEach((s, si) => {
      if (si > 0) put(COMMA);
      put(SCOPE);
      put(s.scope);
      put(SPANS);
      s.fragments.forEach((f, fi) => {
        if (fi > 0) put(COMMA);
        put(f);
      });
      put(CLOSE_SCOPE);
    });
    put(CLOSE_RESOURCE);
  });
  put(CLOSE);
  return out;
}

/** An ExportTraceServiceRequest from spans' bytes: envelope + joined fragments, one Buffer. */
export function traceRequestBytes(fragments: readonly Buffer[], resourceJson: Buffer, scopeJson: Buffer): Buffer {
  return requestBytes([{ resource: resourceJson, scopes: [{ scope: scopeJson, fragments }] }]);
}

/** A record already encoded: its bytes and what its request groups it under. */
export interface EncodedSpan {
  readonly bytes: Buffer;
  readonly resource: ReadableSpan['resource'];
  readonly scope: ReadableSpan['instrumentationScope'];
}

/**
 * A record's bytes with its grouping, so a batch can hold these instead of the spans: a span
 * with its attributes is garbage at once, and a batch waiting for its seal keeps only Buffers,
 * whose bytes live outside the JavaScript heap (no scavenge copies them).
 */
export function encodedSpan(span: ReadableSpan): EncodedSpan {
  return { bytes: spanJsonBytes(span), resource: span.resource, scope: span.instrumentationScope };
}

/**
 * `encodeTraceRequest(spans)` as bytes: the same grouping (by resource object, then by scope
 * name and version), the same bytes, each span's fragment taken from its cache.
 */
export function encodeTraceRequestBytes(spans: readonly ReadableSpan[]): Buffer {
  return encodedRequestBytes(spans.map(encodedSpan));
}

/** The request for records already encoded, grouped as encodeTraceRequest groups their spans. */
export function encodedRequestBytes(items: readonly EncodedSpan[]): Buffer {
  const first = items[0];
  if (first !== undefined && items.every((x) => x.resource === first.resource && x.scope === first.scope)) {
    // An auditor has one resource and one scope: no grouping to do.
    return traceRequestBytes(items.map((x) => x.bytes), resourceJsonBytes(first.resource), scopeJsonBytes(first.scope));
  }
  const byResource = new Map<unknown, { resource: Buffer; scopes: Map<string, { scope: Buffer; fragments: Buffer[] }> }>();
  for (const item of items) {
    let r = byResource.get(item.resource);
    if (r === undefined) {
      r = { resource: resourceJsonBytes(item.resource), scopes: new Map() };
      byResource.set(item.resource, r);
    }
    const scope = item.scope;
    const key = `${scope.name}@${scope.version ?? ''}`;
    let s = r.scopes.get(key);
    if (s === undefined) {
      s = { scope: scopeJsonBytes(scope), fragments: [] };
      r.scopes.set(key, s);
    }
    s.fragments.push(item.bytes);
  }
  return requestBytes(Array.from(byResource.values(), (r) => ({ resource: r.resource, scopes: [...r.scopes.values()] })));
}
