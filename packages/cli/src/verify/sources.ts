import type { KeyObject } from 'node:crypto';
import { decodeJsonRequest } from '../collector/otlp-json.js';
import type { TrailSpan } from '../trail/record.js';
import { dirSource } from './dir-source.js';
import { ProblemLog } from './problems.js';
import type { SealSummary } from './seals.js';
import type { VerifyEntry } from './verifier.js';

/** Where `tooltrail verify` reads records from. */
export type VerifySource =
  | { kind: 'dir'; dir: string }
  | { kind: 'jaeger'; url: string; service: string; since: Date; until: Date }
  | { kind: 'tempo'; url: string; service: string; since: Date; until: Date };

/**
 * A source being read: its entries stream by once; `problems`, `seals` and the counters are
 * final once the iteration ended. Nothing here holds more than one file chunk, one query
 * response or one trace at a time.
 */
export interface OpenedSource {
  description: string;
  entries: AsyncIterable<VerifyEntry>;
  /** Problems reading the source (torn lines, traces that could not be fetched): each a finding. The first 100. */
  problems: string[];
  problemCount: () => number;
  /** The collector's seals, for a folder written by `tooltrail collect` (undefined for query APIs). */
  seals: () => SealSummary | undefined;
  /** Things worth saying about what was read that are not findings; final once the iteration ended. */
  notes: () => string[];
  /** The time range the source covers, when it has one of its own (a query's --since/--until). */
  window?: { from: number; to: number };
}

export interface OpenOptions {
  /** Trusted collector keys for the seals (`--collector-key`). */
  sealKeys?: KeyObject[];
  /** Bytes and lines read so far, for the progress line. */
  onProgress?: (bytes: number, lines: number) => void;
}

export function openSource(source: VerifySource, options: OpenOptions = {}): OpenedSource {
  if (source.kind === 'dir') return dirSource(source.dir, options);
  const problems = new ProblemLog();
  const window = { from: source.since.getTime(), to: source.until.getTime() };
  const base = source.url.replace(/\/+$/, '');
  const other = { spans: 0 };
  const entries = source.kind === 'jaeger' ? jaegerEntries(source, base, problems, options, other) : tempoEntries(source, base, problems, options, other);
  const what = source.kind === 'jaeger' ? 'Jaeger' : 'Tempo';
  return {
    description: `service ${source.service} from ${what} at ${base}, ${source.since.toISOString()} to ${source.until.toISOString()}`,
    entries,
    problems: problems.list,
    problemCount: () => problems.count,
    seals: () => undefined,
    notes: () => (other.spans > 0 ? [`${other.spans} span(s) of other services in the same traces were not checked (not ${source.service}'s trail)`] : []),
    window,
  };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
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
 * Decodes one resourceSpans element at a time and lets it go: the response is the only copy
 * held. A trace may hold other services' spans (a caller's, a callee's): they are not this
 * service's trail, so they are counted, not verified.
 */
function* entriesOf(resourceSpans: unknown[], service: string, other: { spans: number }): Generator<VerifyEntry> {
  for (let i = 0; i < resourceSpans.length; i++) {
    const spans = decodeOtlp({ resourceSpans: [resourceSpans[i]] });
    resourceSpans[i] = undefined;
    for (const span of spans) {
      if (span.resource['service.name'] !== service) other.spans++;
      else yield { span, where: whereOf(span) };
    }
  }
}

/**
 * Jaeger v2's API v3 (`/api/v3/traces`) returns OTLP/JSON with nanosecond times; its older
 * `/api/traces` rounds times to microseconds, which no hash could survive, so it is not used.
 * One query (up to 10 000 traces); paging by time window is a later change.
 */
async function* jaegerEntries(s: Extract<VerifySource, { kind: 'jaeger' }>, base: string, problems: ProblemLog, o: OpenOptions, other: { spans: number }): AsyncGenerator<VerifyEntry> {
  const q = new URLSearchParams({
    'query.service_name': s.service,
    'query.start_time_min': s.since.toISOString(),
    'query.start_time_max': s.until.toISOString(),
    'query.num_traces': '10000',
  });
  let body: { result?: { resourceSpans?: unknown[] } };
  try {
    body = (await getJson(`${base}/api/v3/traces?${q}`)) as typeof body;
  } catch (err) {
    problems.add(`Jaeger query failed: ${(err as Error).message}`);
    return;
  }
  let n = 0;
  try {
    for (const e of entriesOf(body.result?.resourceSpans ?? [], s.service, other)) {
      o.onProgress?.(0, ++n);
      yield e;
    }
  } catch (err) {
    problems.add(`Jaeger answer could not be decoded: ${(err as Error).message}`);
  }
}

/**
 * Grafana Tempo: search the service's traces, then fetch each by id (OTLP/JSON). Untested here:
 * no Tempo binary can be built from the Go module proxy these machines reach (docs/integrity.md).
 */
async function* tempoEntries(s: Extract<VerifySource, { kind: 'tempo' }>, base: string, problems: ProblemLog, o: OpenOptions, other: { spans: number }): AsyncGenerator<VerifyEntry> {
  const q = new URLSearchParams({
    q: `{ resource.service.name = "${s.service.replace(/["\\]/g, '\\$&')}" }`,
    start: String(Math.floor(s.since.getTime() / 1000)),
    end: String(Math.ceil(s.until.getTime() / 1000)),
    limit: '10000',
  });
  let found: { traces?: { traceID: string }[] };
  try {
    found = (await getJson(`${base}/api/search?${q}`)) as typeof found;
  } catch (err) {
    problems.add(`Tempo search failed: ${(err as Error).message}`);
    return;
  }
  let n = 0;
  for (const t of found.traces ?? []) {
    let spans: Generator<VerifyEntry>;
    try {
      const body = (await getJson(`${base}/api/v2/traces/${encodeURIComponent(t.traceID)}`)) as { trace?: unknown } & Record<string, unknown>;
      const trace = (body.trace ?? body) as { resourceSpans?: unknown[]; batches?: unknown[] };
      spans = entriesOf(trace.resourceSpans ?? trace.batches ?? [], s.service, other);
      for (const e of spans) {
        o.onProgress?.(0, ++n);
        yield e;
      }
    } catch (err) {
      problems.add(`trace ${t.traceID}: ${(err as Error).message}`);
    }
  }
}

export interface LoadedRecords {
  spans: TrailSpan[];
  /** Problems reading the source (torn lines, traces that could not be fetched), reported as findings. */
  problems: string[];
  description: string;
}

/** Every span of a source in memory at once (for small trails and scripts; the command streams). */
export async function loadRecords(source: VerifySource): Promise<LoadedRecords> {
  const opened = openSource(source);
  const spans: TrailSpan[] = [];
  for await (const e of opened.entries) spans.push(e.span);
  return { spans, problems: opened.problems, description: `${spans.length} spans: ${opened.description}` };
}
