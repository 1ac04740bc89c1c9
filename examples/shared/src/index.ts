// What every example shares (examples run from source through tsx, so this is TypeScript as is):
// the call table, the collector, the trace's URL.
import path from 'node:path';
import { spawnCollector, type CollectorProcess } from '@tooltrail/cli';

/** The OTLP endpoint the environment names (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT), if any. */
export function otlpEndpoint(): string | undefined {
  return process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

/** Where the user typed the command: npm runs workspace scripts in the workspace folder and sets INIT_CWD. */
export const userCwd = process.env.INIT_CWD ?? process.cwd();

export interface Trail {
  /** The collector this example started, when no OTLP endpoint was configured. */
  collector?: CollectorProcess;
  /** The configured OTLP endpoint, when there is one (then no collector is started). */
  external?: string;
  /** For createAuditor: the collector's URL, or undefined (the OTEL_EXPORTER_OTLP_* variables decide). */
  endpoint: string | undefined;
}

/**
 * Honours OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; without it starts `tooltrail collect` in a
 * process of its own, writing to `dir` (relative to where the command was typed; default
 * $TOOLTRAIL_DEMO_DIR or ./audit-trail). The collector is stopped when the example exits, however
 * it exits: normally, on an uncaught error, or on SIGINT/SIGTERM (then the example exits 130/143).
 */
export async function startTrail(options: { dir?: string; args?: string[] } = {}): Promise<Trail> {
  const external = otlpEndpoint();
  if (external) {
    console.log(`collector: ${external} (from the OTEL_EXPORTER_OTLP_* environment)`);
    return { external, endpoint: undefined };
  }
  const dir = path.resolve(userCwd, options.dir ?? (process.env.TOOLTRAIL_DEMO_DIR || 'audit-trail'));
  const collector = await spawnCollector({ dir, ...(options.args ? { args: options.args } : {}) });
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(collector.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const stop = collector.stop.bind(collector);
  collector.stop = async () => {
    if (stopped) return;
    await stop();
    stopped = true;
  };
  process.once('exit', stopNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the collector (pid ${collector.pid})`);
      stopNow();
      process.exit(code);
    });
  }
  console.log(`collector: tooltrail collect, its own process (pid ${collector.pid}), at ${collector.url}, writing to ${collector.dir}`);
  // For the examples' signal test: hold here so a signal arrives mid-run.
  const hold = Number(process.env.TOOLTRAIL_EXAMPLE_HOLD_MS ?? 0);
  if (hold > 0) await new Promise((r) => setTimeout(r, hold));
  return { collector, endpoint: collector.url };
}

/** The Jaeger UI address for a trace: $TOOLTRAIL_JAEGER_UI (default http://127.0.0.1:16686)/trace/<id>. */
export function traceUrl(traceId: string): string {
  return `${(process.env.TOOLTRAIL_JAEGER_UI || 'http://127.0.0.1:16686').replace(/\/+$/, '')}/trace/${traceId}`;
}

/** What the table needs of a record: a stored TrailRecord, or a span converted with fromSpan. */
export interface CallRecord {
  name: string;
  traceId: string;
  startTimeUnixNano: string;
  attributes: Record<string, unknown>;
}

/** An OpenTelemetry ReadableSpan (the basic example's in-memory exporter) as a CallRecord. */
export function fromSpan(s: { name: string; startTime: [number, number]; attributes: Record<string, unknown>; spanContext(): { traceId: string } }): CallRecord {
  return { name: s.name, traceId: s.spanContext().traceId, startTimeUnixNano: String(BigInt(s.startTime[0]) * 1_000_000_000n + BigInt(s.startTime[1])), attributes: s.attributes };
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * ok (approved by <who>, when a person approved it); error (error.type); refused: denied by
 * <rule> / rejected by <who> (an approval) / invalid arguments (the tool never ran).
 */
export function outcomeOf(a: Record<string, unknown>): string {
  const outcome = String(a['tooltrail.outcome']);
  const approval = a['tooltrail.approval.decision'];
  const approver = String(a['tooltrail.approval.by']);
  if (outcome === 'denied' && approval === 'rejected') return `refused: rejected by ${approver}`;
  if (outcome === 'denied') return `refused: denied${a['tooltrail.policy.rule'] ? ` by ${String(a['tooltrail.policy.rule'])}` : ''}`;
  if (outcome === 'ok' && approval === 'approved') return `ok (approved by ${approver})`;
  if (outcome === 'invalid') return 'refused: invalid arguments';
  if (outcome === 'error') return `error${a['error.type'] ? ` (${String(a['error.type'])})` : ''}`;
  return outcome;
}

/** The calls of one run (its execute_tool records), in the order they started. */
export function callsOf<R extends CallRecord>(records: R[], runId?: string): R[] {
  return records
    .filter((r) => r.name.startsWith('execute_tool ') && (runId === undefined || r.attributes['tooltrail.run.id'] === runId))
    .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : BigInt(a.startTimeUnixNano) > BigInt(b.startTimeUnixNano) ? 1 : 0));
}

/**
 * The one table every example prints: a row per tool call of the run, with what the policy
 * rewrote shown under it. "refused" marks calls whose tool never ran (denied or invalid).
 */
export function formatCalls(records: CallRecord[], runId?: string): string {
  const rows = [['time (UTC)', 'call id', 'tool', 'principal', 'outcome', 'attempts', 'arguments (as recorded)']];
  for (const r of callsOf(records, runId)) {
    const a = r.attributes;
    rows.push([
      new Date(Number(BigInt(r.startTimeUnixNano) / 1_000_000n)).toISOString().slice(11, 23),
      clip(String(a['gen_ai.tool.call.id'] ?? '-'), 24),
      String(a['gen_ai.tool.name']),
      String(a['user.id'] ?? '-'),
      outcomeOf(a),
      String(a['tooltrail.attempts'] ?? '-'),
      clip(String(a['gen_ai.tool.call.arguments'] ?? ''), 90),
    ]);
    if (a['tooltrail.arguments.mutated'] === true && a['tooltrail.arguments.proposed'] !== undefined) {
      rows.push(['', '', '', '', '  model proposed', '', clip(String(a['tooltrail.arguments.proposed']), 90)]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The trace of a run, from its records. */
export function traceOf(records: CallRecord[], runId: string): string | undefined {
  return records.find((r) => r.attributes['tooltrail.run.id'] === runId)?.traceId;
}
