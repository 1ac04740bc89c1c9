import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { createAuditor, currentCall, type AuditorOptions } from '../src/index.js';
import { agentScript, callsById, tempDir, track } from './collector-harness.js';

/** Shared by the delivery-*.test.ts files: auditors, child agents, and what the spool holds. */

export const who = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'delivery-bot' } };

export function auditorFor(endpoint: string, extra: Partial<AuditorOptions> = {}) {
  const warnings: string[] = [];
  const spoolDir = extra.spoolDir ?? tempDir('spool');
  const auditor = createAuditor({
    serviceName: 'delivery-test',
    endpoint,
    logger: { warn: (m) => warnings.push(m) },
    ...extra,
    spoolDir,
    export: { initialBackoffMs: 20, maxBackoffMs: 200, timeoutMs: 2_000, warnAfterMs: 0, ...extra.export },
  });
  const tool = auditor.withAudit(async (n: number | string) => ({ n, callId: currentCall()!.callId }), { name: 'step' });
  return { auditor, tool, warnings, spoolDir };
}

export async function callMany(run: (n: number) => Promise<{ callId: string }>, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await run(i)).callId);
  return ids;
}

/** Every id arrived; with `only`, nothing else did. Duplicates only as identical copies. */
export function expectAllArrived(dir: string, ids: readonly string[], only = true): { duplicates: number } {
  const byId = callsById(dir);
  const missing = ids.filter((id) => !byId.has(id));
  expect(missing).toEqual([]);
  let duplicates = 0;
  for (const [id, copies] of byId) {
    if (only) expect(ids).toContain(id);
    for (const c of copies) expect(spanOf(c)).toEqual(spanOf(copies[0]!));
    duplicates += copies.length - 1;
  }
  return { duplicates };
}

/** A stored span without what the collector adds (line number, chain, receive time): identical for duplicates. */
export function spanOf(r: object): Record<string, unknown> {
  const { v: _v, t: _t, n: _n, p: _p, r: _r, s: _s, receivedAt: _at, writer: _w, resource: _res, ...span } = r as Record<string, unknown>;
  return span;
}

/** mulberry32: a small seeded PRNG, so a failing run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface AgentRun {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  returned(): string[];
}

/** Starts fixtures/agent.mjs (or `script`), optionally under a command prefix such as unshare. */
export function runAgent(env: Record<string, string>, options: { prefix?: string[]; script?: string; uid?: number; gid?: number } = {}): AgentRun {
  const script = options.script ?? agentScript;
  const [cmd, ...args] = [...(options.prefix ?? []), process.execPath, script];
  const ids = options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {};
  const proc = track(spawn(cmd as string, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...ids }));
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      stderr.push(`stdout: ${l}`);
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { proc, lines, stderr, exited, returned: () => lines.filter((l) => 'returned' in l).map((l) => String(l.returned)) };
}

/** Every file under dir, recursively (relative paths). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Bytes of spool segments not yet acknowledged, summed over every stream folder. */
export function undeliveredSpoolBytes(spoolDir: string): number {
  let total = 0;
  for (const rel of filesUnder(spoolDir)) {
    if (!/seg-\d{6}\.log$/.test(rel) || rel.includes('quarantine')) continue;
    const file = path.join(spoolDir, rel);
    const ack = existsSync(file.replace(/\.log$/, '.ack')) ? Number(readFileSync(file.replace(/\.log$/, '.ack'), 'utf8')) : 0;
    total += Math.max(0, statSync(file).size - ack);
  }
  return total;
}

/** Quarantine lines (docs/export.md) under a spool folder. */
export function quarantineLines(spoolDir: string): { at: string; status: number; reason: string; spans: number; request: unknown }[] {
  const out: { at: string; status: number; reason: string; spans: number; request: unknown }[] = [];
  for (const rel of filesUnder(spoolDir)) {
    if (!rel.endsWith(path.join('quarantine', 'rejected.jsonl'))) continue;
    for (const line of readFileSync(path.join(spoolDir, rel), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line));
  }
  return out;
}

/** Records that carry a call id (the call's, its attempts'), per call, in a trail: how many records one call costs. */
export function recordsPerCall(dir: string): number {
  const ids = new Set<string>();
  let records = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(/"gen_ai\.tool\.call\.id":"([^"]+)"/g)) {
      ids.add(m[1]!);
      records++;
    }
  }
  return records / ids.size;
}

/** execute_tool call ids at the collector and how often each arrived, read lean (no full parse): for big trails. */
export function callIdCounts(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.includes('"name":"execute_tool ')) continue;
      const m = /"gen_ai\.tool\.call\.id":"([^"]+)"/.exec(line);
      if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
    }
  }
  return counts;
}
