import { decodeJsonRequest } from '../../collector/otlp-json.js';
import type { CanaryPlan } from './canary.js';
import { emptyReadBack, findSecrets, note, type ReadBack } from './read-back.js';

export interface JaegerTarget {
  url: string;
  service: string;
}

const SLACK_MS = 5_000;
const NUM_TRACES = 1_000;

/**
 * Jaeger's API v3: the service's traces that started since the check began (with slack for
 * clocks), in one answer. The answer's raw text is searched for the planted secrets before it is
 * parsed: what Jaeger stores and serves is what a reader of the trail gets.
 */
export async function readJaegerOnce(target: JaegerTarget, plan: CanaryPlan, startedAt: number, now = Date.now()): Promise<ReadBack> {
  const base = target.url.replace(/\/+$/, '');
  const rb = emptyReadBack(`service ${target.service} from Jaeger at ${base}`);
  const params = new URLSearchParams({
    'query.service_name': target.service,
    'query.start_time_min': new Date(startedAt - SLACK_MS).toISOString(),
    'query.start_time_max': new Date(now + SLACK_MS).toISOString(),
    'query.num_traces': String(NUM_TRACES),
  });
  const url = `${base}/api/v3/traces?${params}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    rb.problems.push(`GET ${url}: ${(err as Error).message}`);
    return rb;
  }
  const text = await res.text();
  if (!res.ok) {
    // Jaeger answers a search that found nothing with 404 "No traces found".
    if (!(res.status === 404 && /No traces found/.test(text))) rb.problems.push(`GET ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return rb;
  }
  const bytes = Buffer.from(text, 'utf8');
  rb.bytes = bytes.length;
  findSecrets(bytes, plan.secrets, () => `Jaeger's answer for service ${target.service}`, rb.hits);
  let spans;
  try {
    const body = JSON.parse(text) as { result?: { resourceSpans?: unknown[] } };
    spans = decodeJsonRequest(JSON.stringify({ resourceSpans: fixIds(body.result?.resourceSpans ?? []) }));
  } catch (err) {
    rb.problems.push(`Jaeger's answer could not be decoded: ${(err as Error).message}`);
    return rb;
  }
  for (const span of spans) {
    rb.records++;
    if (JSON.stringify(span).includes(plan.nonce)) note(rb, plan, span, `Jaeger trace ${span.traceId}`);
  }
  return rb;
}

/** Ids as hex: Jaeger's OTLP/JSON may carry them base64 (protobuf JSON mapping). */
function fixIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fixIds);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const id = (k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof x === 'string' && x !== '' && !/^[0-9a-f]+$/.test(x);
    out[k] = id ? Buffer.from(x, 'base64').toString('hex') : fixIds(x);
  }
  return out;
}
