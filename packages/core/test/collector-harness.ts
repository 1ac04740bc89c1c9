import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Real processes for the export tests: the `tooltrail collect` collector and a fault proxy. */

const repo = path.resolve(new URL('.', import.meta.url).pathname, '../../..');
const cliBin = path.join(repo, 'packages/cli/dist/bin.js');
const faultProxy = path.join(repo, 'packages/core/test/fixtures/fault-proxy.mjs');
export const agentScript = path.join(repo, 'packages/core/test/fixtures/agent.mjs');

const children = new Set<ChildProcess>();

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `tooltrail-${prefix}-`));
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function firstLine(proc: ChildProcess, what: string): Promise<string> {
  const rl = createInterface({ input: proc.stdout! });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  try {
    for await (const line of rl) return line;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${what} exited before it was ready`);
}

export interface Collector {
  port: number;
  url: string;
  dir: string;
  proc: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startCollector(options: { port?: number; dir?: string } = {}): Promise<Collector> {
  const dir = options.dir ?? tempDir('trail');
  const proc = spawn(process.execPath, [cliBin, 'collect', '--port', String(options.port ?? 0), '--dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(proc);
  const line = await firstLine(proc, 'tooltrail collect');
  const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
  if (!m) throw new Error(`unexpected ready line from tooltrail collect: ${line}`);
  const port = Number(m[1]);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    proc,
    kill: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      await once(proc, 'exit');
      children.delete(proc);
    },
  };
}

/** Faults the proxy injects (fixtures/fault-proxy.mjs says what each does). */
export interface Faults {
  status?: number;
  count: number;
  retryAfter?: string;
  hang?: boolean;
  trickle?: boolean;
  maxBodyBytes?: number;
  rejectContaining?: string;
  rejectStatus?: number;
  partialContaining?: string;
  delayMs?: number;
}

export interface FaultProxyStats {
  forwarded: number;
  failed: number;
  hung: number;
  trickled: number;
  tooLarge: number;
  rejected: number;
  partial: number;
  /** Requests whose client gave up (closed the connection) before the answer, other than the hung and trickled ones. */
  gaveUp: number;
  statuses: Record<string, number>;
  /** Body size of every forwarded request, in order. */
  forwardedBytes: number[];
}

export interface FaultProxy {
  url: string;
  set(faults: Faults): Promise<void>;
  /** The counters so far; with reset, they start again from zero afterwards. */
  stats(reset?: boolean): Promise<FaultProxyStats>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const proc = spawn(process.execPath, [faultProxy], { env: { ...process.env, UPSTREAM: upstream }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(proc);
  const { port } = JSON.parse(await firstLine(proc, 'fault proxy')) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    set: async (faults) => {
      await fetch(`${url}/__faults`, { method: 'POST', body: JSON.stringify(faults) });
    },
    stats: async (reset = false) =>
      (await (await fetch(`${url}/__stats`, { method: 'POST', body: reset ? 'reset' : '' })).json()) as FaultProxyStats,
  };
}

export function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  return proc;
}

export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

/** One span as the collector wrote it (docs/collector.md). */
export interface TrailRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  resource: Record<string, unknown>;
}

/** Every record in the collector's files, in file order. */
export function readRecords(dir: string): TrailRecord[] {
  const out: TrailRecord[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as TrailRecord & { v?: number; t?: string };
      // Line format v2 (docs/collector.md) adds file, resource and seal lines: only spans are records.
      if (rec.v !== undefined && rec.t !== 'span') continue;
      out.push(rec);
    }
  }
  return out;
}

/** execute_tool records by call id, with how many copies of each arrived. */
export function callsById(dir: string): Map<string, TrailRecord[]> {
  const byId = new Map<string, TrailRecord[]>();
  for (const r of readRecords(dir)) {
    if (!r.name.startsWith('execute_tool ')) continue;
    const id = String(r.attributes['gen_ai.tool.call.id']);
    const list = byId.get(id) ?? [];
    list.push(r);
    byId.set(id, list);
  }
  return byId;
}
