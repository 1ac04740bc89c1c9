/**
 * The pipeline suite's harness (`npm run test:pipeline`): drives scripts/pipeline.sh, runs agent
 * processes (agent.mjs), reads what reached Jaeger through its query API, and runs
 * `tooltrail verify --jaeger` on it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateSigningKeyPair } from '@tooltrail/core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/pipeline.sh');
const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
/** The tooltrail CLI that verifies: this checkout's build (TOOLTRAIL_CLI: another build of it). */
const CLI = process.env.TOOLTRAIL_CLI ?? path.join(ROOT, 'packages/cli/dist/bin.js');

/** Where scripts/pipeline.sh puts each piece (deploy/*.yaml). */
export const COLLECTOR_ENDPOINT = 'http://127.0.0.1:24318';
export const QUERY_URL = 'http://127.0.0.1:26686';
export const DIRECT_ENDPOINT = 'http://127.0.0.1:25318';
export const DIRECT_QUERY_URL = 'http://127.0.0.1:25686';

export type Piece = 'kafka-1' | 'kafka-2' | 'kafka-3' | 'collector' | 'ingester' | 'direct';

/** `scripts/pipeline.sh <command> [pieces]`; its progress goes to stderr; throws with the exit code. */
export function pipeline(command: 'ensure' | 'start' | 'stop' | 'kill' | 'status' | 'reset', ...pieces: Piece[]): string {
  try {
    return execFileSync('bash', [SCRIPT, command, ...pieces], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }).trim();
  } catch (err) {
    const status = (err as { status?: number | null }).status;
    throw new Error(`scripts/pipeline.sh ${command} ${pieces.join(' ')} failed (exit ${status ?? 'signal'}); see its output above and docs/production.md`);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The running piece's command line (its PID file in the pipeline's state folder, then /proc). */
export function commandLineOf(piece: Piece): string[] {
  const state = process.env.PIPELINE_STATE_DIR ?? path.join(ROOT, '.cache/pipeline');
  const pid = readFileSync(path.join(state, 'run', `${piece}.pid`), 'utf8').trim();
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

const tmpDirs: string[] = [];
export function tempDir(prefix = 'tooltrail-pipeline-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Keys for one test: the agents sign checkpoints and MAC records; verify checks both. */
export interface Keys {
  signingKeyFile: string;
  publicKeyFile: string;
  macKey: string;
  macKeyFile: string;
}
export function makeKeys(dir: string): Keys {
  const pair = generateSigningKeyPair();
  const k: Keys = {
    signingKeyFile: path.join(dir, 'signing.pem'),
    publicKeyFile: path.join(dir, 'signing.pub'),
    macKey: `pipeline-mac-key-${Math.random().toString(36).slice(2)}-0123456789`,
    macKeyFile: path.join(dir, 'mac.key'),
  };
  writeFileSync(k.signingKeyFile, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(k.publicKeyFile, pair.publicKeyPem);
  writeFileSync(k.macKeyFile, k.macKey, { mode: 0o600 });
  return k;
}

export interface AgentOptions {
  service: string;
  endpoint: string;
  spoolDir: string;
  /** Call ids are `<prefix>-r<run>-c<call>`. */
  prefix: string;
  runs: number;
  callsPerRun: number;
  /** Calls per second; 0 as fast as it goes. */
  ratePerSec: number;
  durability?: 'buffered' | 'strict';
  signingKeyFile?: string;
  macKey?: string;
  checkpointEvery?: number;
  maxBackoffMs?: number;
  shutdownMs?: number;
  export?: Record<string, unknown>;
}

export interface AgentResult {
  shutdown: boolean;
  stats: { recorded: number; exported: number; dropped: number; failedExports: number; replayed: number; quarantined: number; left: number };
  ms: number;
}

const live = new Set<ChildProcess>();
/** SIGKILLs every agent and verify process still running (afterAll, and at exit). */
export function killChildren(): void {
  for (const c of live) c.kill('SIGKILL');
}
process.on('exit', killChildren);

/** One agent process: counts the calls that returned, and what its auditor reported at the end. */
export class Agent {
  readonly proc: ChildProcess;
  /** Call ids whose call returned (the agent printed `ok <id>` after the call). */
  readonly completed: string[] = [];
  result: AgentResult | undefined;
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly options: AgentOptions) {
    this.proc = spawn(process.execPath, [AGENT, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.proc);
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    readline.createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      if (line.startsWith('ok ')) {
        this.completed.push(line.slice(3));
        for (const w of this.waiters.filter((w) => this.completed.length >= w.n)) w.resolve();
        this.waiters = this.waiters.filter((w) => this.completed.length < w.n);
      } else if (line.startsWith('done ')) {
        this.result = JSON.parse(line.slice(5)) as AgentResult;
      }
    });
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code, signal) => {
        live.delete(this.proc);
        for (const w of this.waiters) w.resolve();
        resolve({ code, signal });
      }),
    );
  }

  get expectedCalls(): number {
    return this.options.runs * this.options.callsPerRun;
  }

  /** Resolves once `n` calls returned (or the process ended). */
  waitForCalls(n: number): Promise<void> {
    if (this.completed.length >= n || this.proc.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Waits for the agent to finish; fails unless it exited 0 with shutdown() true. */
  async finished(timeoutMs: number): Promise<AgentResult> {
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`agent ${this.options.prefix} did not finish within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (exit.code !== 0 || !this.result) {
      throw new Error(`agent ${this.options.prefix} exited ${exit.code ?? exit.signal} without its done line; stderr: ${this.stderr.slice(-2000)}`);
    }
    return this.result;
  }

  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * The call ids of execute_tool records in an agent's spool folder, read from its segment files
 * (`<span count> <OTLP/JSON request>` per line, docs/export.md), adopted folders included.
 * Fully delivered segments are deleted, so this is what was spooled and not yet all delivered.
 */
export function spooledCallIds(spoolDir: string, options: { unackedOnly?: boolean } = {}): string[] {
  const ids: string[] = [];
  // A segment's .ack holds the byte offset up to which it was delivered (the spool's own marker).
  const ackedBytes = (log: string): number => {
    try {
      const n = Number(readFileSync(log.replace(/\.log$/, '.ack'), 'utf8').trim());
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  };
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^seg-\d+\.log$/.test(e.name)) {
        const bytes = readFileSync(p);
        const text = (options.unackedOnly === true ? bytes.subarray(ackedBytes(p)) : bytes).toString('utf8');
        for (const line of text.split('\n')) {
          const sp = line.indexOf(' ');
          if (sp < 0) continue; // the torn tail of a killed writer
          let req: { resourceSpans?: { scopeSpans?: { spans?: { name: string; attributes?: { key: string; value: { stringValue?: string } }[] }[] }[] }[] };
          try {
            req = JSON.parse(line.slice(sp + 1));
          } catch {
            continue;
          }
          for (const rs of req.resourceSpans ?? [])
            for (const ss of rs.scopeSpans ?? [])
              for (const s of ss.spans ?? []) {
                if (!s.name.startsWith('execute_tool ')) continue;
                const id = s.attributes?.find((a) => a.key === 'gen_ai.tool.call.id')?.value.stringValue;
                if (id) ids.push(id);
              }
        }
      }
    }
  };
  walk(spoolDir);
  return ids;
}

// ---- what Jaeger has ---------------------------------------------------------------------------

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  tags: { key: string; value: unknown }[] | null;
  warnings: string[] | null;
}

export interface Arrived {
  /** execute_tool spans: call id -> the distinct span ids stored for it. */
  calls: Map<string, Set<string>>;
  /** Every span Jaeger returned (copies included). */
  spans: number;
  /** Spans returned more than once under the same trace and span id (stored copies). */
  copies: number;
  traces: number;
  /** Spans Jaeger changed on the way in, with its warning (e.g. a zero-length span's end time moved). */
  rewritten: { name: string; warning: string }[];
}

/** Everything Jaeger returns for a service, reduced to what the tests compare. */
export async function arrived(service: string, queryUrl = QUERY_URL): Promise<Arrived> {
  const params = new URLSearchParams({ service, lookback: '2h', limit: '20000' });
  const res = await fetch(`${queryUrl}/api/traces?${params}`, { signal: AbortSignal.timeout(60_000) });
  const body = (await res.json()) as { data: { traceID: string; spans: JaegerSpan[] }[] | null; errors: unknown };
  if (res.status !== 200 || body.errors) throw new Error(`GET /api/traces?service=${service}: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
  const calls = new Map<string, Set<string>>();
  const seen = new Set<string>();
  let spans = 0;
  let copies = 0;
  const rewritten: Arrived['rewritten'] = [];
  for (const t of body.data ?? []) {
    for (const s of t.spans) {
      spans++;
      for (const w of s.warnings ?? []) rewritten.push({ name: s.operationName, warning: w });
      const key = `${s.traceID}/${s.spanID}`;
      if (seen.has(key)) copies++;
      seen.add(key);
      if (!s.operationName.startsWith('execute_tool ')) continue;
      const id = s.tags?.find((tag) => tag.key === 'gen_ai.tool.call.id')?.value;
      if (typeof id !== 'string') continue;
      let set = calls.get(id);
      if (!set) calls.set(id, (set = new Set()));
      set.add(s.spanID);
    }
  }
  return { calls, spans, copies, traces: body.data?.length ?? 0, rewritten };
}

/**
 * Polls Jaeger until every expected call id has its execute_tool span, within a bound. Returns
 * what it saw last; the test asserts on it (so a timeout shows which ids are missing).
 */
export async function waitForCalls(service: string, expected: Iterable<string>, timeoutMs: number, queryUrl = QUERY_URL): Promise<{ seen: Arrived; missing: string[]; waitedMs: number }> {
  const want = [...expected];
  const t0 = Date.now();
  let seen: Arrived = { calls: new Map(), spans: 0, copies: 0, traces: 0, rewritten: [] };
  let missing = want;
  let interval = 500;
  for (;;) {
    try {
      seen = await arrived(service, queryUrl);
      missing = want.filter((id) => !seen.calls.has(id));
      if (missing.length === 0) return { seen, missing, waitedMs: Date.now() - t0 };
    } catch {
      // The ingester may be restarting; keep polling within the bound.
    }
    if (Date.now() - t0 > timeoutMs) return { seen, missing, waitedMs: Date.now() - t0 };
    await sleep(interval);
    interval = Math.min(interval * 2, 4_000);
  }
}

// ---- tooltrail verify ------------------------------------------------------------------------------

export interface VerifyOutput {
  code: number | null;
  json: {
    ok: boolean;
    verdict: string;
    notAuthenticated?: string[];
    report: {
      streams: { streamId: string; records: number; duplicates: number; checkpoints: number; ended: boolean; findings: { kind: string; message?: string }[] }[];
      trailFindings: { kind: string; message?: string }[];
    };
  };
  stderr: string;
  ms: number;
}

/** `node packages/cli/dist/bin.js verify --jaeger <url> --service <name> --json ...`. */
export function verifyJaeger(service: string, keys: Keys, extra: string[] = [], queryUrl = QUERY_URL): Promise<VerifyOutput> {
  const args = [CLI, 'verify', '--jaeger', queryUrl, '--service', service, '--since', '2h', '--json', '--no-progress', '--public-key', keys.publicKeyFile, '--mac-key-file', keys.macKeyFile, ...extra];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => {
      live.delete(p);
      try {
        resolve({ code, json: JSON.parse(out) as VerifyOutput['json'], stderr: err, ms: Date.now() - t0 });
      } catch {
        reject(new Error(`tooltrail verify exited ${code} without JSON output: ${out.slice(0, 500)} ${err.slice(0, 2000)}`));
      }
    });
  });
}

/** Every finding verify reported, stream and trail, as "kind: message" lines. */
export function findings(v: VerifyOutput): string[] {
  const out: string[] = [];
  for (const s of v.json.report.streams) for (const f of s.findings) out.push(`stream ${s.streamId}: ${f.kind}: ${f.message ?? ''}`);
  for (const f of v.json.report.trailFindings) out.push(`trail: ${f.kind}: ${f.message ?? ''}`);
  return out;
}

/** A line for the test log: what happened in one scenario. */
export function report(name: string, fields: Record<string, unknown>): void {
  console.log(`[pipeline] ${name}: ${Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`);
}
