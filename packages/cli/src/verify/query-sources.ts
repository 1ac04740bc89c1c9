import { decodeJsonRequest } from '../collector/otlp-json.js';
import type { TrailSpan } from '../trail/record.js';
import type { ProblemLog } from './problems.js';
import type { VerifyEntry } from './verifier.js';
import { undoJaegerAdjustments } from './jaeger-adjustments.js';

/**
 * Reading Jaeger and Tempo by time window. A query API answers at most `pageTraces` traces per
 * request, and says nothing when it stopped there: a busy service would be silently truncated
 * and show false gaps. So the range is read in windows, oldest first; a window whose answer
 * holds `pageTraces` traces (it may have been cut) is halved and asked again, down to
 * `minWindowMs`; a window still full at that size is a source problem that says so, never a
 * silent cut. After a quiet window the size grows again (doubling, up to `windowMs`).
 *
 * A trace whose spans fall into two windows is returned by both. It is read in one only: the
 * window holding its earliest span of the service inside the range (Jaeger; Tempo: the trace's
 * start), which every window asking for that instant returns. That needs no set of the ids seen:
 * memory stays at one answer (Jaeger) or one trace (Tempo) at a time.
 */

export interface Paging {
  /** Traces asked for per request (Jaeger's `query.num_traces`, Tempo's `limit`). */
  pageTraces: number;
  /** The largest window (the first asked for, and the most a quiet window grows back to). */
  windowMs: number;
  /** The smallest window; one still full at this size is a source problem. */
  minWindowMs: number;
}

export const DEFAULT_PAGING: Paging = { pageTraces: 250, windowMs: 3_600_000, minWindowMs: 10 };

/** What a query source read: stated in the output (human and JSON). */
export interface SourceRead {
  /** Distinct traces read (each once, however many windows returned it). */
  traces: number;
  /** Spans of the service, checked. */
  spans: number;
  /** Spans of other services in the same traces, counted, not checked. */
  otherSpans: number;
  /** HTTP requests made (searches and, for Tempo, trace fetches). */
  queries: number;
  /** Windows read; the smallest and largest, in ms. */
  windows: number;
  smallestWindowMs?: number;
  largestWindowMs?: number;
  /** Windows that still held a full page at the smallest size (each is a source problem). */
  fullWindows: number;
  pageTraces: number;
}

export interface QuerySpec {
  service: string;
  since: Date;
  until: Date;
  paging: Paging;
}

export function newRead(paging: Paging): SourceRead {
  return { traces: 0, spans: 0, otherSpans: 0, queries: 0, windows: 0, fullWindows: 0, pageTraces: paging.pageTraces };
}

class NotFound extends Error {}

async function getJson(url: string, emptyOn404?: RegExp): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) {
    const text = (await res.text()).slice(0, 300);
    // Jaeger answers a search that found nothing with 404 "No traces found".
    if (res.status === 404 && emptyOn404?.test(text)) throw new NotFound(text);
    throw new Error(`GET ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  return res.json();
}

/** OTLP/JSON from a query API, with ids either hex (OTLP/JSON) or base64 (protobuf JSON). */
function decodeOtlp(body: unknown): TrailSpan[] {
  const fixIds = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(fixIds);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if ((k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof x === 'string' && x !== '' && !/^[0-9a-f]+$/.test(x)) {
        out[k] = Buffer.from(x, 'base64').toString('hex');
      } else out[k] = fixIds(x);
    }
    return out;
  };
  return decodeJsonRequest(JSON.stringify(fixIds(body)));
}

const whereOf = (span: TrailSpan) => `trace ${span.traceId} span ${span.spanId}`;

/**
 * Decodes one resourceSpans element at a time and lets it go: the answer is the only copy held.
 * A trace may hold other services' spans (a caller's, a callee's): they are not this service's
 * trail, so they are counted, not verified.
 */
function* entriesOf(resourceSpans: unknown[], service: string, read: SourceRead): Generator<VerifyEntry> {
  for (let i = 0; i < resourceSpans.length; i++) {
    const spans = decodeOtlp({ resourceSpans: [resourceSpans[i]] });
    resourceSpans[i] = undefined;
    for (const span of spans) {
      undoJaegerAdjustments(span);
      if (span.resource['service.name'] !== service) read.otherSpans++;
      else {
        read.spans++;
        yield { span, where: whereOf(span) };
      }
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Window<P> {
  from: number;
  to: number;
  last: boolean;
  page: P;
}

/**
 * The windows of [since, until], oldest first, each with its answer. `fetchPage` returns the
 * answer and how many distinct traces it holds, or throws. `align` rounds window ends (Tempo
 * asks in whole seconds).
 */
async function* windows<P>(
  q: QuerySpec,
  what: string,
  problems: ProblemLog,
  read: SourceRead,
  fetchPage: (from: number, to: number) => Promise<{ page: P; traces: number }>,
  align = 1,
): AsyncGenerator<Window<P>> {
  const { pageTraces, windowMs, minWindowMs } = q.paging;
  const since = q.since.getTime();
  const until = q.until.getTime();
  let cursor = since;
  let size = windowMs;
  let failures = 0;
  do {
    const to = Math.min(until, Math.ceil((cursor + size) / align) * align);
    let got: { page: P; traces: number };
    try {
      read.queries++;
      got = await fetchPage(cursor, to);
      failures = 0;
    } catch (err) {
      problems.add(`${what} query for ${iso(cursor)} to ${iso(to)} failed: ${(err as Error).message}; that window was not read`);
      cursor = to;
      if (++failures >= 3 && cursor < until) {
        problems.add(`${what}: three queries in a row failed; stopped reading: ${iso(cursor)} to ${iso(until)} was not read`);
        return;
      }
      continue;
    }
    const width = to - cursor;
    if (got.traces >= pageTraces && width > minWindowMs) {
      // Possibly cut: ask again for the first half (the answer is dropped first).
      size = Math.max(minWindowMs, Math.floor(width / 2));
      continue;
    }
    if (got.traces >= pageTraces) {
      read.fullWindows++;
      problems.add(
        `${what} returned ${got.traces} traces, the page limit (${pageTraces}), for ${iso(cursor)} to ${iso(to)}, a window of ${width} ms ` +
          `(the smallest, --min-window): traces beyond the limit may be missing from what was checked. Raise --page-traces or lower --min-window`,
      );
    }
    read.windows++;
    read.smallestWindowMs = Math.min(read.smallestWindowMs ?? width, width);
    read.largestWindowMs = Math.max(read.largestWindowMs ?? width, width);
    yield { from: cursor, to, last: to >= until, page: got.page };
    cursor = to;
    if (got.traces < pageTraces / 4) size = Math.min(windowMs, size * 2);
  } while (cursor < until);
}

const msToNs = (ms: number) => BigInt(ms) * 1_000_000n;

/** Whether the window [from, to) (the last one closed: [from, to]) owns a trace whose key is `key` (ns, clamped to the range). */
function owns(w: { from: number; to: number; last: boolean }, key: bigint): boolean {
  return key >= msToNs(w.from) && (key < msToNs(w.to) || (w.last && key <= msToNs(w.to)));
}

interface RawSpan {
  traceId?: unknown;
  startTimeUnixNano?: unknown;
}
interface RawResource {
  resource?: { attributes?: { key?: unknown; value?: { stringValue?: unknown } }[] };
  scopeSpans?: { spans?: RawSpan[] }[];
}

function serviceOf(rs: RawResource): unknown {
  return rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
}

function nanos(v: unknown): bigint | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return BigInt(v);
  } catch {
    return undefined;
  }
}

/**
 * Jaeger v2's API v3 (`/api/v3/traces`) returns OTLP/JSON with nanosecond times; its older
 * `/api/traces` rounds times to microseconds, which no hash could survive, so it is not used.
 * Jaeger matches a trace when one of its spans of the service starts inside the query's range
 * (both ends inclusive), and returns the whole trace.
 */
export async function* jaegerEntries(base: string, q: QuerySpec, problems: ProblemLog, read: SourceRead, onProgress?: (b: number, l: number) => void): AsyncGenerator<VerifyEntry> {
  const sinceNs = msToNs(q.since.getTime());
  const untilNs = msToNs(q.until.getTime());
  const fetchPage = async (from: number, to: number) => {
    const params = new URLSearchParams({
      'query.service_name': q.service,
      // One millisecond either side: a span on a boundary is asked for by both windows, and read once.
      'query.start_time_min': iso(from - 1),
      'query.start_time_max': iso(to + 1),
      'query.num_traces': String(q.paging.pageTraces),
    });
    let body: { result?: { resourceSpans?: unknown[] } };
    try {
      body = (await getJson(`${base}/api/v3/traces?${params}`, /No traces found/)) as typeof body;
    } catch (err) {
      if (err instanceof NotFound) return { page: [] as RawResource[], traces: 0 };
      throw err;
    }
    const resourceSpans = (body.result?.resourceSpans ?? []) as RawResource[];
    const ids = new Set<unknown>();
    for (const rs of resourceSpans) for (const ss of rs.scopeSpans ?? []) for (const sp of ss.spans ?? []) ids.add(sp.traceId);
    return { page: resourceSpans, traces: ids.size };
  };
  let n = 0;
  for await (const w of windows(q, 'Jaeger', problems, read, fetchPage)) {
    // Pass 1 over the raw answer: each trace's key, its earliest span of the service in the range.
    const first = new Map<unknown, bigint | undefined>();
    for (const rs of w.page) {
      const mine = serviceOf(rs) === q.service;
      for (const ss of rs.scopeSpans ?? []) {
        for (const sp of ss.spans ?? []) {
          const t = mine ? nanos(sp.startTimeUnixNano) : undefined;
          const cur = first.get(sp.traceId);
          if (t !== undefined && t >= sinceNs && t <= untilNs && (cur === undefined || t < cur)) first.set(sp.traceId, t);
          else if (!first.has(sp.traceId)) first.set(sp.traceId, undefined);
        }
      }
    }
    const owned = new Set<unknown>();
    // A trace with no span of the service inside the range came in through the millisecond
    // either side: it is outside what was asked for.
    for (const [id, key] of first) if (key !== undefined && owns(w, key)) owned.add(id);
    read.traces += owned.size;
    // Pass 2: only the owned traces' spans, decoded a resource at a time.
    const kept: RawResource[] = [];
    for (const rs of w.page) {
      for (const ss of rs.scopeSpans ?? []) ss.spans = (ss.spans ?? []).filter((sp) => owned.has(sp.traceId));
      if ((rs.scopeSpans ?? []).some((ss) => (ss.spans ?? []).length > 0)) kept.push(rs);
    }
    w.page.length = 0;
    try {
      for (const e of entriesOf(kept, q.service, read)) {
        onProgress?.(0, ++n);
        yield e;
      }
    } catch (err) {
      problems.add(`Jaeger answer for ${iso(w.from)} to ${iso(w.to)} could not be decoded: ${(err as Error).message}`);
    }
  }
}

/**
 * Grafana Tempo: search the service's traces window by window (whole seconds), then fetch each
 * by id (OTLP/JSON). A trace is read in the window holding its start (clamped to the range).
 * Untested here: no Tempo binary can be built from the Go module proxy these machines reach
 * (docs/integrity.md).
 */
export async function* tempoEntries(base: string, q: QuerySpec, problems: ProblemLog, read: SourceRead, onProgress?: (b: number, l: number) => void): AsyncGenerator<VerifyEntry> {
  const sinceNs = msToNs(q.since.getTime());
  const untilNs = msToNs(q.until.getTime());
  const tq = `{ resource.service.name = "${q.service.replace(/["\\]/g, '\\$&')}" }`;
  const fetchPage = async (from: number, to: number) => {
    const params = new URLSearchParams({
      q: tq,
      start: String(Math.floor(from / 1000)),
      end: String(Math.ceil(to / 1000)),
      limit: String(q.paging.pageTraces),
    });
    const found = (await getJson(`${base}/api/search?${params}`)) as { traces?: { traceID: string; startTimeUnixNano?: string }[] };
    const traces = found.traces ?? [];
    return { page: traces, traces: new Set(traces.map((t) => t.traceID)).size };
  };
  const stray = new Set<string>();
  let n = 0;
  const paging = { ...q.paging, minWindowMs: Math.max(1000, q.paging.minWindowMs) };
  for await (const w of windows({ ...q, paging }, 'Tempo', problems, read, fetchPage, 1000)) {
    const seen = new Set<string>();
    for (const t of w.page) {
      if (seen.has(t.traceID)) continue;
      seen.add(t.traceID);
      const start = nanos(t.startTimeUnixNano);
      const key = start === undefined ? undefined : start < sinceNs ? sinceNs : start > untilNs ? untilNs : start;
      if (key !== undefined ? !owns(w, key) : stray.has(t.traceID)) continue;
      if (key === undefined) stray.add(t.traceID);
      read.traces++;
      try {
        read.queries++;
        const body = (await getJson(`${base}/api/v2/traces/${encodeURIComponent(t.traceID)}`)) as { trace?: unknown } & Record<string, unknown>;
        const trace = (body.trace ?? body) as { resourceSpans?: unknown[]; batches?: unknown[] };
        for (const e of entriesOf(trace.resourceSpans ?? trace.batches ?? [], q.service, read)) {
          onProgress?.(0, ++n);
          yield e;
        }
      } catch (err) {
        problems.add(`trace ${t.traceID}: ${(err as Error).message}`);
      }
    }
  }
}
