import type { VerifySource } from '../../verify/sources.js';
import type { CallView } from '../calls.js';
import type { CanaryPlan } from './canary.js';
import type { LoadedAuditor } from './load-auditor.js';
import { scanRecent, type RecentScan } from './principals.js';
import { emptyReadBack, readDirOnce, type ReadBack } from './read-back.js';
import { readJaegerOnce } from './read-jaeger.js';
import { runCanary, scrub, type CanaryAttempt } from './run-canary.js';
import { verdicts, type Verdict, type VerdictId } from './verdicts.js';

export type CheckSource = { kind: 'dir'; dir: string } | { kind: 'jaeger'; url: string; service: string };

export interface CheckOptions {
  loaded: LoadedAuditor;
  plan: CanaryPlan;
  source: CheckSource;
  /** How long to wait for the canary's records to arrive. */
  timeoutMs: number;
  /** Start of the recent-records scan (question 2). */
  since: Date;
}

/** The check's result: the JSON output (`--json`) is this object. A contract: fields are only added. */
export interface CheckResult {
  ok: boolean;
  exitCode: 0 | 1;
  nonce: string;
  tool: string;
  auditor: string;
  source: string;
  startedAt: string;
  elapsedMs: number;
  /** Time spent waiting for the records after the canary ran; polls made. */
  waitedMs: number;
  polls: number;
  /** Whether the auditor said everything it recorded was delivered (`auditor.flush`). */
  flushed: boolean;
  verdicts: Verdict[];
  /** The ids of the verdicts that did not pass (`fail` or `unknown`). */
  failing: VerdictId[];
  canary: {
    label: 'a' | 'b';
    principal: string;
    runId: string;
    callId: string;
    inProcess: CanaryAttempt | undefined;
    record: (Pick<CallView, 'outcome' | 'rule' | 'reason' | 'runId' | 'principalId' | 'principalType' | 'traceId' | 'spanId' | 'argsJson'> & { where: string }) | null;
  }[];
  recent: RecentScan | undefined;
  read: { records: number; bytes: number; related: number; problems: string[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readOnce(o: CheckOptions, startedAt: number): Promise<ReadBack> {
  return o.source.kind === 'dir' ? readDirOnce(o.source.dir, o.plan, startedAt) : readJaegerOnce(o.source, o.plan, startedAt);
}

/**
 * Reads the trail until both canary calls are there or the time is up. Delivery is
 * asynchronous (batching, a collector, Jaeger's ingestion), so one read right after the run
 * would call a working set-up broken; waiting the whole timeout on every check would be slow.
 */
async function poll(o: CheckOptions, startedAt: number): Promise<{ rb: ReadBack; polls: number; waitedMs: number }> {
  const t0 = Date.now();
  const deadline = t0 + o.timeoutMs;
  let polls = 0;
  let delay = 100;
  let rb: ReadBack | undefined;
  const problems = new Set<string>();
  let unread: string[] = [];
  for (;;) {
    polls++;
    try {
      rb = await readOnce(o, startedAt);
      for (const p of rb.problems) problems.add(p);
      unread = [...rb.problems];
    } catch (err) {
      problems.add((err as Error).message);
      unread = [(err as Error).message];
    }
    if ((rb && rb.calls.a && rb.calls.b) || Date.now() >= deadline) break;
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 1000);
  }
  const out: ReadBack = rb ?? emptyReadBack(o.source.kind === 'dir' ? o.source.dir : o.source.url);
  out.problems = [...problems].slice(0, 20);
  out.unread = unread;
  return { rb: out, polls, waitedMs: Date.now() - t0 };
}

function recentSource(s: CheckSource, since: Date, until: Date): VerifySource {
  return s.kind === 'dir' ? { kind: 'dir', dir: s.dir } : { kind: 'jaeger', url: s.url, service: s.service, since, until };
}

export async function runCheck(o: CheckOptions): Promise<CheckResult> {
  const startedAt = Date.now();
  const attempts = await runCanary(o.loaded, o.plan);
  const flushed = await o.loaded.auditor.flush(Math.min(o.timeoutMs, 10_000));
  const { rb, polls, waitedMs } = await poll(o, startedAt);
  await o.loaded.close(Math.min(o.timeoutMs, 10_000)).catch(() => false);
  let recent: RecentScan | undefined;
  let recentError: string | undefined;
  const until = new Date();
  try {
    // This check's own canary runs are left out by their run ids (fresh per check), not by a
    // call-id prefix a model could choose for its own calls.
    recent = await scanRecent(recentSource(o.source, o.since, until), o.since, until, new Set(o.plan.runs.map((r) => r.runId)));
  } catch (err) {
    recentError = (err as Error).message;
    rb.problems.push(`the recent-records scan failed: ${recentError}`);
  }
  const vs = verdicts({ plan: o.plan, attempts, readBack: rb, recent, ...(recentError !== undefined ? { recentError } : {}), waitedMs });
  const failing = vs.filter((v) => v.status !== 'pass').map((v) => v.id);
  const result: CheckResult = {
    ok: failing.length === 0,
    exitCode: failing.length === 0 ? 0 : 1,
    nonce: o.plan.nonce,
    tool: o.plan.tool,
    auditor: o.loaded.description,
    source: rb.description,
    startedAt: new Date(startedAt).toISOString(),
    elapsedMs: Date.now() - startedAt,
    waitedMs,
    polls,
    flushed,
    verdicts: vs,
    failing,
    canary: o.plan.runs.map((run) => {
      const f = rb.calls[run.label];
      const c = f?.view;
      return {
        label: run.label,
        principal: run.principal.id,
        runId: run.runId,
        callId: run.callId,
        inProcess: attempts.find((a) => a.label === run.label),
        record:
          f && c
            ? {
                where: f.where,
                outcome: c.outcome,
                traceId: c.traceId,
                spanId: c.spanId,
                ...pick(c, ['rule', 'reason', 'runId', 'principalId', 'principalType', 'argsJson']),
              }
            : null,
      };
    }),
    recent,
    read: { records: rb.records, bytes: rb.bytes, related: rb.related, problems: rb.problems },
  };
  // What the check prints must not become one more copy of a leaked secret (CI logs): a record
  // that holds one is shown with the value replaced. The values are [A-Z0-9]: JSON-safe as is.
  return JSON.parse(scrub(o.plan, JSON.stringify(result))) as CheckResult;
}

function pick<K extends keyof CallView>(c: CallView, keys: K[]): Partial<Pick<CallView, K>> {
  const out: Partial<Pick<CallView, K>> = {};
  for (const k of keys) if (c[k] !== undefined) out[k] = c[k];
  return out;
}
