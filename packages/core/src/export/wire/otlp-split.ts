/**
 * Taking OTLP/JSON export requests apart and putting them together, for delivery: batches are
 * merged into one request, and a request the collector refuses (413, 400, a partial success)
 * is split, down to single spans, to find what it refuses without giving up the rest.
 */

const BODY_PREFIX = '{"resourceSpans":[';

/** Concatenates OTLP/JSON requests into one: each keeps its own resource entry. */
export function mergeRequests(bodies: readonly string[]): string {
  if (bodies.length === 1) return bodies[0] as string;
  const parts: string[] = [];
  for (const b of bodies) {
    const inner = b.startsWith(BODY_PREFIX) ? b.slice(BODY_PREFIX.length, b.length - 2) : '';
    if (inner) parts.push(inner);
  }
  return `${BODY_PREFIX}${parts.join(',')}]}`;
}

interface ResourceSpans {
  resource?: unknown;
  schemaUrl?: unknown;
  scopeSpans?: { scope?: unknown; schemaUrl?: unknown; spans?: unknown[] }[];
}

/** The spans of one request, each with its resource and scope, re-encodable in any range. */
export class SpanList {
  private constructor(private readonly items: { r: ResourceSpans; s: NonNullable<ResourceSpans['scopeSpans']>[number]; span: unknown }[]) {}

  /** Undefined when the body is not an OTLP/JSON request (it cannot be split). */
  static parse(body: string): SpanList | undefined {
    let req: { resourceSpans?: ResourceSpans[] };
    try {
      req = JSON.parse(body) as { resourceSpans?: ResourceSpans[] };
    } catch {
      return undefined;
    }
    if (!Array.isArray(req.resourceSpans)) return undefined;
    const items: SpanList['items'] = [];
    for (const r of req.resourceSpans) for (const s of r.scopeSpans ?? []) for (const span of s.spans ?? []) items.push({ r, s, span });
    return items.length > 0 ? new SpanList(items) : undefined;
  }

  get length(): number {
    return this.items.length;
  }

  /** A request holding spans [from, to), grouped under their resources and scopes as before. */
  encode(from: number, to: number): string {
    const resourceSpans: unknown[] = [];
    let lastR: ResourceSpans | undefined;
    let lastS: unknown;
    let rOut: { scopeSpans: unknown[] } | undefined;
    let sOut: { spans: unknown[] } | undefined;
    for (let i = from; i < to; i++) {
      const it = this.items[i]!;
      if (it.r !== lastR || rOut === undefined) {
        const { scopeSpans: _drop, ...rest } = it.r;
        rOut = { ...rest, scopeSpans: [] };
        resourceSpans.push(rOut);
        lastR = it.r;
        lastS = undefined;
      }
      if (it.s !== lastS || sOut === undefined) {
        const { spans: _drop, ...rest } = it.s;
        sOut = { ...rest, spans: [] };
        rOut.scopeSpans.push(sOut);
        lastS = it.s;
      }
      sOut.spans.push(it.span);
    }
    return JSON.stringify({ resourceSpans });
  }
}

/** From a 2xx answer's body: spans the collector says it rejected (OTLP partialSuccess). */
export function partialRejection(body: string): { rejected: number; message: string } | undefined {
  if (!body.includes('partialSuccess')) return undefined;
  try {
    const p = (JSON.parse(body) as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } }).partialSuccess;
    const rejected = Number(p?.rejectedSpans ?? 0);
    if (!Number.isFinite(rejected) || rejected <= 0) return undefined;
    return { rejected, message: typeof p?.errorMessage === 'string' ? p.errorMessage : '' };
  } catch {
    return undefined;
  }
}
