import { readTrail } from '../trail/reader.js';
import type { TrailSpan } from '../trail/record.js';
import { decodeJsonRequest } from '../collector/otlp-json.js';

/** Where `tooltrail verify` reads records from. */
export type VerifySource =
  | { kind: 'dir'; dir: string }
  | { kind: 'jaeger'; url: string; service: string; since: Date; until: Date }
  | { kind: 'tempo'; url: string; service: string; since: Date; until: Date };

export interface LoadedRecords {
  spans: TrailSpan[];
  /** Problems reading the source (torn lines, traces that could not be fetched), reported as findings. */
  problems: string[];
  description: string;
}

export async function loadRecords(source: VerifySource): Promise<LoadedRecords> {
  if (source.kind === 'dir') {
    const trail = await readTrail(source.dir);
    return {
      spans: trail.records,
      problems: trail.problems.map((p) => `${p.file}:${p.line}: ${p.kind}: ${p.message}`),
      description: `${trail.records.length} spans from ${trail.files.length} file(s) in ${source.dir}`,
    };
  }
  if (source.kind === 'jaeger') return loadFromJaeger(source);
  return loadFromTempo(source);
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

/**
 * Jaeger v2's API v3 (`/api/v3/traces`) returns OTLP/JSON with nanosecond times; its older
 * `/api/traces` rounds times to microseconds, which no hash could survive, so it is not used.
 */
async function loadFromJaeger(s: Extract<VerifySource, { kind: 'jaeger' }>): Promise<LoadedRecords> {
  const base = s.url.replace(/\/+$/, '');
  const q = new URLSearchParams({
    'query.service_name': s.service,
    'query.start_time_min': s.since.toISOString(),
    'query.start_time_max': s.until.toISOString(),
    'query.num_traces': '10000',
  });
  const body = (await getJson(`${base}/api/v3/traces?${q}`)) as { result?: { resourceSpans?: unknown[] } };
  const spans = body.result?.resourceSpans ? decodeOtlp({ resourceSpans: body.result.resourceSpans }) : [];
  return { spans, problems: [], description: `${spans.length} spans of service ${s.service} from Jaeger at ${base}` };
}

/**
 * Grafana Tempo: search the service's traces, then fetch each by id (OTLP/JSON). Untested here:
 * no Tempo binary can be built from the Go module proxy these machines reach (docs/integrity.md).
 */
async function loadFromTempo(s: Extract<VerifySource, { kind: 'tempo' }>): Promise<LoadedRecords> {
  const base = s.url.replace(/\/+$/, '');
  const q = new URLSearchParams({
    q: `{ resource.service.name = "${s.service.replace(/"/g, '\\"')}" }`,
    start: String(Math.floor(s.since.getTime() / 1000)),
    end: String(Math.ceil(s.until.getTime() / 1000)),
    limit: '10000',
  });
  const found = (await getJson(`${base}/api/search?${q}`)) as { traces?: { traceID: string }[] };
  const spans: TrailSpan[] = [];
  const problems: string[] = [];
  for (const t of found.traces ?? []) {
    try {
      const body = (await getJson(`${base}/api/v2/traces/${t.traceID}`)) as { trace?: unknown } & Record<string, unknown>;
      const trace = (body.trace ?? body) as { resourceSpans?: unknown[]; batches?: unknown[] };
      spans.push(...decodeOtlp({ resourceSpans: trace.resourceSpans ?? trace.batches ?? [] }));
    } catch (err) {
      problems.push(`trace ${t.traceID}: ${(err as Error).message}`);
    }
  }
  return { spans, problems, description: `${spans.length} spans of service ${s.service} from Tempo at ${base}` };
}
