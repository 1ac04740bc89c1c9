import type { TrailScope, TrailSpan } from './record.js';

/**
 * One request's lines before the writer numbers and chains them: its resource lines (each
 * distinct resource once, with its distinct scopes), then its span lines in the order received.
 * Storing the resource once per request, not once per span, is what bounds the stored bytes
 * by the request's own size (a request of one huge resource and thousands of tiny spans used
 * to be stored thousands of times over).
 */

export interface PendingLine {
  t: 'resource' | 'span';
  /**
   * The line's own fields as the UTF-8 of a JSON object (the writer puts the chain fields in
   * front). Bytes, not a string: the writer hashes and writes them as they are, with no copy.
   */
  rest: Buffer;
}

export interface RequestLines {
  lines: PendingLine[];
  /** Bytes of the `rest` buffers plus, per line, the most the writer adds (its chain fields). */
  bytes: number;
  spans: number;
}

/** What the writer adds to each line, at most (`{"v":2,"t":"resource","n":<16 digits>,"p":"<64>",`). */
export const CHAIN_OVERHEAD_BYTES = 120;

interface Group {
  index: number;
  json: { receivedAt: string; writer?: string; resource: unknown; resourceDroppedAttributesCount?: number; resourceSchemaUrl?: string; scopes: TrailScope[] };
  scopeByObject: Map<TrailScope, number>;
  scopeByJson: Map<string, number>;
}

/**
 * The lines of one request. Throws `StoredBytesError` as soon as they would pass `maxBytes`
 * (counting the chain fields too), so an oversized request is refused before it is all built.
 */
export function requestLines(spans: readonly TrailSpan[], receivedAt: string, writer: string | undefined, maxBytes = Infinity): RequestLines {
  // Spans of one ResourceSpans share their resource object; equal resources sent in separate
  // ResourceSpans are merged by their JSON, so repeating a resource per span does not repeat it.
  const byObject = new Map<object, Group>();
  const byJson = new Map<string, Group>();
  const groups: Group[] = [];
  const spanRefs: [Group, number][] = [];
  for (const span of spans) {
    let g = byObject.get(span.resource);
    if (!g) {
      const key = JSON.stringify([span.resource, span.resourceDroppedAttributesCount ?? 0, span.resourceSchemaUrl ?? '']);
      g = byJson.get(key);
      if (!g) {
        const json: Group['json'] = { receivedAt, ...(writer === undefined ? {} : { writer }), resource: span.resource, scopes: [] };
        if (span.resourceDroppedAttributesCount) json.resourceDroppedAttributesCount = span.resourceDroppedAttributesCount;
        if (span.resourceSchemaUrl) json.resourceSchemaUrl = span.resourceSchemaUrl;
        g = { index: groups.length, json, scopeByObject: new Map(), scopeByJson: new Map() };
        groups.push(g);
        byJson.set(key, g);
      }
      byObject.set(span.resource, g);
    }
    let s = g.scopeByObject.get(span.scope);
    if (s === undefined) {
      const key = JSON.stringify(span.scope);
      s = g.scopeByJson.get(key);
      if (s === undefined) {
        s = g.json.scopes.length;
        g.json.scopes.push(span.scope);
        g.scopeByJson.set(key, s);
      }
      g.scopeByObject.set(span.scope, s);
    }
    spanRefs.push([g, s]);
  }

  const lines: PendingLine[] = [];
  let bytes = 0;
  const add = (t: PendingLine['t'], json: string) => {
    const rest = Buffer.from(json, 'utf8');
    bytes += rest.length + CHAIN_OVERHEAD_BYTES;
    if (bytes > maxBytes) throw new StoredBytesError(maxBytes);
    lines.push({ t, rest });
  };
  for (const g of groups) add('resource', JSON.stringify({ r: g.index, ...g.json }));
  spans.forEach((span, i) => {
    const [g, s] = spanRefs[i]!;
    add('span', spanRest(g.index, s, span));
  });
  return { lines, bytes, spans: spans.length };
}

/** The span's fields after `r` and `s`, in the v1 order, without the resource and scope. */
function spanRest(r: number, s: number, span: TrailSpan): string {
  const { resource: _r, resourceDroppedAttributesCount: _d, resourceSchemaUrl: _u, scope: _s, ...own } = span;
  return JSON.stringify({ r, s, ...own });
}

/** A request whose lines would be larger than the collector stores for one request (HTTP 413). */
export class StoredBytesError extends Error {
  override readonly name = 'StoredBytesError';
  constructor(readonly limit: number) {
    super(`the request would store more than ${limit} bytes (--max-stored-bytes); send fewer spans per request`);
  }
}
