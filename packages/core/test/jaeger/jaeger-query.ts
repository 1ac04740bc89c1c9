/**
 * A small client for the Jaeger query API, for the integration tests (`npm run test:jaeger`).
 *
 * Reads traces through the same HTTP API the Jaeger UI uses (`/api/traces`, `/api/services`)
 * and, for the OTLP view of the same data, the v3 API (`/api/v3/traces/{id}`). Jaeger's tag
 * lists (`[{ key, type, value }]`) are turned into plain `{ key: value }` maps so a test can
 * compare them, attribute by attribute, with what the tools did.
 */

/** Where scripts/jaeger.sh starts Jaeger (scripts/jaeger/config.yaml). */
export const JAEGER_QUERY_URL = 'http://127.0.0.1:16686';
export const JAEGER_OTLP_ENDPOINT = 'http://127.0.0.1:4318';

export type AttributeValue = string | number | boolean | AttributeValue[];
export type Attributes = Record<string, AttributeValue>;

/** A tag as Jaeger's query API returns it. */
export interface JaegerTag {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64' | 'binary';
  value: unknown;
}

interface JaegerLog {
  timestamp: number;
  fields: JaegerTag[];
}

interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}

export interface JaegerSpanJson {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[] | null;
  startTime: number; // µs since the epoch
  duration: number; // µs
  tags: JaegerTag[] | null;
  logs: JaegerLog[] | null;
  processID: string;
  warnings: string[] | null;
}

export interface JaegerTraceJson {
  traceID: string;
  spans: JaegerSpanJson[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] | null }>;
  warnings: string[] | null;
}

interface JaegerResponse<T> {
  data: T | null;
  errors: { code: number; msg: string }[] | null;
}

/**
 * Tags Jaeger derives from the OTLP span rather than from its attributes. They are lifted
 * out of `attributes` into `kind`, `status` and `scope`, so that `attributes` holds exactly
 * what the span's attributes were.
 */
const DERIVED_TAGS = ['span.kind', 'otel.status_code', 'otel.status_description', 'otel.scope.name', 'otel.scope.version'] as const;

export interface Span {
  traceId: string;
  spanId: string;
  /** The CHILD_OF reference's span id; undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  service: string;
  /** Resource attributes other than service.name (Jaeger's "process" tags). */
  resource: Attributes;
  /** `internal`, `server`, `client`, ...; undefined when Jaeger recorded none (UNSPECIFIED). */
  kind: string | undefined;
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string };
  scope: { name?: string; version?: string };
  /** The span's own attributes, exactly. */
  attributes: Attributes;
  events: { name: string; attributes: Attributes }[];
  startTimeUs: number;
  durationUs: number;
  warnings: string[];
}

export interface Trace {
  traceId: string;
  spans: Span[];
  warnings: string[];
}

/** `[{ key, type, value }]` → `{ key: value }`, with the value in its JSON type; throws on what it does not know. */
export function tagsToMap(tags: readonly JaegerTag[] | null | undefined): Attributes {
  const out: Attributes = {};
  for (const tag of tags ?? []) {
    if (Object.prototype.hasOwnProperty.call(out, tag.key)) {
      throw new Error(`tag ${tag.key} appears twice`);
    }
    out[tag.key] = tagValue(tag);
  }
  return out;
}

function tagValue(tag: JaegerTag): AttributeValue {
  const { key, type, value } = tag;
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'bool':
      if (typeof value === 'boolean') return value;
      break;
    case 'int64':
      // Jaeger's JSON writes int64 as a number; a value beyond 2^53 would not be exact.
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      if (typeof value === 'string' && /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
      break;
    case 'float64':
      if (typeof value === 'number') return value;
      break;
    case 'binary':
      throw new Error(`tag ${key} is binary; tooltrail records none`);
  }
  throw new Error(`tag ${key}: unexpected ${type} value ${JSON.stringify(value)}`);
}

export function normalizeTrace(trace: JaegerTraceJson): Trace {
  return {
    traceId: trace.traceID,
    spans: trace.spans.map((s) => normalizeSpan(s, trace)).sort((a, b) => a.startTimeUs - b.startTimeUs),
    warnings: trace.warnings ?? [],
  };
}

export function normalizeSpan(span: JaegerSpanJson, trace: JaegerTraceJson): Span {
  const all = tagsToMap(span.tags);
  const process = trace.processes[span.processID];
  if (!process) throw new Error(`span ${span.spanID} names process ${span.processID}, which the trace does not have`);
  const parents = (span.references ?? []).filter((r) => r.refType === 'CHILD_OF');
  if (parents.length > 1) throw new Error(`span ${span.spanID} has ${parents.length} parents`);

  const statusCode = all['otel.status_code'] ?? 'UNSET';
  if (statusCode !== 'UNSET' && statusCode !== 'OK' && statusCode !== 'ERROR') throw new Error(`span ${span.spanID}: status ${String(statusCode)}`);
  const status: Span['status'] = { code: statusCode };
  if (all['otel.status_description'] !== undefined) status.message = String(all['otel.status_description']);
  const scope: Span['scope'] = {};
  if (all['otel.scope.name'] !== undefined) scope.name = String(all['otel.scope.name']);
  if (all['otel.scope.version'] !== undefined) scope.version = String(all['otel.scope.version']);
  const kind = all['span.kind'] === undefined ? undefined : String(all['span.kind']);

  const attributes: Attributes = { ...all };
  for (const key of DERIVED_TAGS) delete attributes[key];
  // Jaeger adds `error: true` to spans with status ERROR; only that exact tag is Jaeger's.
  if (statusCode === 'ERROR' && attributes.error === true) delete attributes.error;

  return {
    traceId: span.traceID,
    spanId: span.spanID,
    parentSpanId: parents[0]?.spanID,
    name: span.operationName,
    service: process.serviceName,
    resource: tagsToMap(process.tags),
    kind,
    status,
    scope,
    attributes,
    events: (span.logs ?? []).map((log) => {
      const { event, ...attrs } = tagsToMap(log.fields);
      return { name: String(event), attributes: attrs };
    }),
    startTimeUs: span.startTime,
    durationUs: span.duration,
    warnings: span.warnings ?? [],
  };
}

export interface FindTracesQuery {
  service: string;
  operation?: string;
  /** Span tags that must match, as the UI's "Tags" field: `{ 'tooltrail.outcome': 'denied' }`. */
  tags?: Record<string, string>;
  limit?: number;
  /** How far back to look, e.g. `1h`. */
  lookback?: string;
}

export interface WaitOptions {
  /** Give up after this long. Default 20 s. */
  timeoutMs?: number;
  /** Time between polls. Default 100 ms. */
  intervalMs?: number;
}

export class JaegerQuery {
  constructor(readonly baseUrl: string = JAEGER_QUERY_URL) {}

  private async get<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      throw new Error(`GET ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    return { status: res.status, body };
  }

  /** The services Jaeger has spans for. */
  async services(): Promise<string[]> {
    const { status, body } = await this.get<JaegerResponse<string[]>>('/api/services');
    if (status !== 200) throw new Error(`GET /api/services: HTTP ${status} ${JSON.stringify(body)}`);
    return body.data ?? [];
  }

  /** `GET /api/traces?service=...`: what the UI's search form does. */
  async findTraces(q: FindTracesQuery): Promise<Trace[]> {
    const params = new URLSearchParams({ service: q.service, limit: String(q.limit ?? 100), lookback: q.lookback ?? '1h' });
    if (q.operation) params.set('operation', q.operation);
    if (q.tags) params.set('tags', JSON.stringify(q.tags));
    const path = `/api/traces?${params}`;
    const { status, body } = await this.get<JaegerResponse<JaegerTraceJson[]>>(path);
    // A service Jaeger has not seen yet is a 200 with no data, not an error.
    if (status !== 200 || (body.errors && body.errors.length > 0)) throw new Error(`GET ${path}: HTTP ${status} ${JSON.stringify(body.errors)}`);
    return (body.data ?? []).map(normalizeTrace);
  }

  /** `GET /api/traces/{id}`; undefined when Jaeger does not have it. */
  async getTrace(traceId: string): Promise<Trace | undefined> {
    const { status, body } = await this.get<JaegerResponse<JaegerTraceJson[]>>(`/api/traces/${traceId}`);
    if (status === 404) return undefined;
    if (status !== 200 || (body.errors && body.errors.length > 0)) throw new Error(`GET /api/traces/${traceId}: HTTP ${status} ${JSON.stringify(body.errors)}`);
    const [trace] = body.data ?? [];
    return trace ? normalizeTrace(trace) : undefined;
  }

  /** `GET /api/v3/traces/{id}`: the same trace as OTLP JSON (`resourceSpans`); undefined when not found. */
  async getTraceOtlp(traceId: string): Promise<OtlpTracesData | undefined> {
    const { status, body } = await this.get<{ result?: OtlpTracesData; error?: { httpCode: number; message: string } }>(`/api/v3/traces/${traceId}`);
    if (status === 404) return undefined;
    if (status !== 200 || !body.result) throw new Error(`GET /api/v3/traces/${traceId}: HTTP ${status} ${JSON.stringify(body.error)}`);
    return body.result;
  }

  /**
   * Polls `findTraces` until the service's traces hold exactly `spanCount` spans, and returns
   * them. Jaeger ingests asynchronously (the OTLP receiver answers before the spans are stored),
   * so right after an export the spans may be missing or partial. Fails with what it saw when
   * the count is not reached in time, or is exceeded.
   */
  async waitForSpans(query: FindTracesQuery, spanCount: number, options: WaitOptions = {}): Promise<Trace[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    let seen = -1;
    let lastError: unknown;
    for (;;) {
      try {
        const traces = await this.findTraces(query);
        seen = traces.reduce((n, t) => n + t.spans.length, 0);
        if (seen === spanCount) return traces;
        if (seen > spanCount) throw new Error(`expected ${spanCount} spans for ${JSON.stringify(query)}, Jaeger has ${seen}`);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('expected ')) throw err;
        lastError = err;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `Jaeger did not have ${spanCount} spans for ${JSON.stringify(query)} within ${options.timeoutMs ?? 20_000} ms ` +
            `(last saw ${seen < 0 ? 'nothing' : seen})${lastError ? `; last error: ${String(lastError)}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
    }
  }
}

/** The OTLP JSON the v3 API returns (only the fields the tests read). */
export interface OtlpTracesData {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: {
      scope: { name: string; version?: string };
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        status?: { code?: number; message?: string };
        attributes?: OtlpKeyValue[];
        events?: { name: string; attributes?: OtlpKeyValue[] }[];
      }[];
    }[];
  }[];
}

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function otlpValue(key: string, value: OtlpAnyValue): AttributeValue {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map((v) => otlpValue(key, v));
  throw new Error(`attribute ${key}: unexpected value ${JSON.stringify(value)}`);
}

/**
 * OTLP JSON attributes → `{ key: value }`: intValue (a string in OTLP JSON) becomes a number,
 * arrayValue an array. (Jaeger's own `/api/traces` has no array tags: it shows an array
 * attribute as a string tag holding its JSON, e.g. `["email"]`.)
 */
export function otlpAttributesToMap(kvs: readonly OtlpKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of kvs ?? []) out[key] = otlpValue(key, value);
  return out;
}
