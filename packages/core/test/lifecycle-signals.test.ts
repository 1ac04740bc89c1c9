import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../src/index.js';
import { freePort, killAll, readRecords, startCollector, tempDir, track, type Collector, type TrailRecord } from './collector-harness.js';

/**
 * A signal ends the stream properly: real child agents (core's source under tsx), a real
 * `tooltrail collect`, and `tooltrail verify` on what it stored.
 */

const repo = path.resolve(new URL('.', import.meta.url).pathname, '../../..');
const agent = path.join(repo, 'packages/core/test/lifecycle-agent.ts');
const cliBin = path.join(repo, 'packages/cli/dist/bin.js');

let keyDir: string;
let privateKeyFile: string;
let publicKeyFile: string;

beforeAll(() => {
  keyDir = tempDir('lifecycle-keys');
  const pair = generateSigningKeyPair();
  privateKeyFile = path.join(keyDir, 'signing.pem');
  publicKeyFile = path.join(keyDir, 'signing.pub.pem');
  writeFileSync(privateKeyFile, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicKeyFile, pair.publicKeyPem);
});
afterAll(() => killAll());

interface Agent {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first line `pred` accepts (rejects if the agent exits first). */
  waitFor(pred: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  stderr(): string;
}

function startAgent(env: Record<string, string>): Agent {
  const proc = track(
    spawn(process.execPath, ['--import', 'tsx', agent], {
      cwd: repo,
      env: { ...process.env, TOOLTRAIL_SIGNING_KEY_FILE: privateKeyFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) if (w.pred(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
  });
  let signalledAt = Date.now();
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, ms: Date.now() - signalledAt }));
  const origKill = proc.kill.bind(proc);
  proc.kill = (signal?: NodeJS.Signals | number) => ((signalledAt = Date.now()), origKill(signal));
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    waitFor: (pred) =>
      new Promise((resolve, reject) => {
        const found = lines.find(pred);
        if (found) return resolve(found);
        waiters.push({ pred, resolve });
        void exited.then((e) => reject(new Error(`agent exited (${e.code ?? e.signal}) before the awaited line; stderr:\n${err}`)));
      }),
  };
}

interface VerifyJson {
  report: { streams: { streamId: string; ended: boolean; findings: { kind: string; message: string }[]; records?: number }[] };
}

function verifyTrail(dir: string): { status: number; json: VerifyJson; stdout: string } {
  const r = spawnSync(process.execPath, [cliBin, 'verify', '--dir', dir, '--json', '--public-key', publicKeyFile], { encoding: 'utf8', timeout: 30_000 });
  let json: VerifyJson;
  try {
    json = JSON.parse(r.stdout) as VerifyJson;
  } catch {
    throw new Error(`tooltrail verify printed no JSON (status ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status ?? -1, json, stdout: r.stdout };
}

/** The records of one stream, and the checks every properly ended stream passes. */
function expectEnded(collector: Collector, streamId: string): TrailRecord[] {
  const all = readRecords(collector.dir).filter((r) => r.attributes['tooltrail.stream.id'] === streamId);
  const records = all.filter((r) => r.name !== 'tooltrail.checkpoint');
  const seqs = [...new Set(records.map((r) => Number(r.attributes['tooltrail.seq'])))].sort((a, b) => a - b);
  expect(seqs[0]).toBe(1);
  expect(seqs[seqs.length - 1]).toBe(seqs.length); // gapless
  expect(records.find((r) => r.attributes['tooltrail.seq'] === 1)?.name).toBe('tooltrail.stream_start');
  // One stream end. A request in flight when the process went can reach the collector and be
  // delivered again from the spool by the next start (at-least-once): identical copies of one span.
  const finalCopies = all.filter((r) => r.name === 'tooltrail.checkpoint' && r.attributes['tooltrail.checkpoint.final'] === true);
  const finals = [...new Map(finalCopies.map((r) => [r.spanId, r])).values()];
  expect(finals).toHaveLength(1);
  for (const copy of finalCopies) expect(JSON.stringify(copy.attributes)).toBe(JSON.stringify(finals[0]!.attributes));
  // The stream-end checkpoint comes after the last record: it covers every one of them.
  expect(finals[0]!.attributes['tooltrail.checkpoint.seq_end']).toBe(seqs.length);
  const v = verifyTrail(collector.dir);
  const stream = v.json.report.streams.find((s) => s.streamId === streamId);
  expect(stream, v.stdout).toBeDefined();
  expect(stream!.ended).toBe(true);
  expect(stream!.findings).toEqual([]);
  // At-least-once across restarts: copies of one span must be identical; callers count each once.
  const unique = new Map<string, TrailRecord>();
  for (const r of all) {
    const seen = unique.get(r.spanId);
    if (seen) expect(JSON.stringify(r.attributes)).toBe(JSON.stringify(seen.attributes));
    else unique.set(r.spanId, r);
  }
  return [...unique.values()];
}

const calls = (records: TrailRecord[]) => records.filter((r) => r.name === 'execute_tool step');

describe('SIGTERM and SIGINT end the stream after the last record', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: refuses new calls, finishes the call in flight, writes the stream end, delivers, then dies by ${signal}`, async () => {
      const collector = await startCollector();
      const a = startAgent({ MODE: 'loop', ENDPOINT: collector.url, SPOOL_DIR: tempDir('sig-spool'), READY: '30', CHECKPOINT_EVERY: '16' });
      const { streamId } = await a.waitFor((l) => 'ready' in l);
      a.proc.kill(signal);
      const exit = await a.exited;
      // The signal's usual effect, re-raised once the records were delivered.
      expect(exit.signal).toBe(signal);
      expect(exit.ms).toBeLessThan(10_000);
      expect(a.lines.some((l) => l.refused === 'TOOLTRAIL_SHUT_DOWN')).toBe(true);
      const records = expectEnded(collector, String(streamId));
      // Every call the agent made was recorded, the last one included; none after the refusal.
      const ok = calls(records).filter((r) => r.attributes['tooltrail.outcome'] === 'ok');
      expect(ok.length).toBeGreaterThanOrEqual(30);
      const ns = ok.map((r) => Number(JSON.parse(String(r.attributes['gen_ai.tool.call.arguments'])))).sort((x, y) => x - y);
      expect(ns).toEqual(ns.map((_, i) => i));
      expect(records.filter((r) => r.name.startsWith('tool_intent'))).toHaveLength(0);
      await collector.kill();
    });
  }

  it('an app that listens to SIGTERM itself decides: its shutdown() ends the stream and it exits 0', async () => {
    const collector = await startCollector();
    const a = startAgent({ MODE: 'loop', APP_LISTENS: '1', ENDPOINT: collector.url, SPOOL_DIR: tempDir('app-spool'), READY: '10' });
    const { streamId } = await a.waitFor((l) => 'ready' in l);
    a.proc.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(a.lines.find((l) => 'appShutdown' in l)?.appShutdown).toBe(true);
    expectEnded(collector, String(streamId));
    await collector.kill();
  });

  it('is bounded when the collector is gone: exits by the signal deadline, the spool holds the rest, the next start delivers an ended stream', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const spool = tempDir('dead-spool');
    const a = startAgent({ MODE: 'loop', ENDPOINT: dead, SPOOL_DIR: spool, READY: '12', SIGNAL_FLUSH_MS: '1500' });
    const { streamId } = await a.waitFor((l) => 'ready' in l);
    a.proc.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit.signal).toBe('SIGTERM');
    // signalFlushMs 1 500 + the guard's margin, with room for a loaded machine.
    expect(exit.ms).toBeLessThan(6_000);
    const collector = await startCollector();
    const drain = startAgent({ MODE: 'natural', ENDPOINT: collector.url, SPOOL_DIR: spool, READY: '0' });
    const { streamId: second } = await drain.waitFor((l) => 'ready' in l);
    expect((await drain.exited).code).toBe(0);
    const records = expectEnded(collector, String(streamId));
    expect(calls(records).length).toBeGreaterThanOrEqual(12);
    // The next process's stream names this one: the lineage.
    const start = readRecords(collector.dir).find((r) => r.attributes['tooltrail.stream.id'] === second && r.name === 'tooltrail.stream_start');
    expect(start?.attributes['tooltrail.stream.prev_id']).toBe(streamId);
    expectEnded(collector, String(second));
    await collector.kill();
  });
});

describe('a second signal stops waiting', () => {
  it('exits at once on the second SIGTERM, with the stream ended in the spool for the next start', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const spool = tempDir('twice-spool');
    const a = startAgent({ MODE: 'loop', ENDPOINT: dead, SPOOL_DIR: spool, READY: '6', SIGNAL_FLUSH_MS: '20000' });
    const { streamId } = await a.waitFor((l) => 'ready' in l);
    a.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 400));
    a.proc.kill('SIGTERM');
    const exit = await a.exited;
    expect(exit.signal).toBe('SIGTERM');
    expect(exit.ms).toBeLessThan(5_000); // not the 20 s signal deadline
    const collector = await startCollector();
    const drain = startAgent({ MODE: 'natural', ENDPOINT: collector.url, SPOOL_DIR: spool, READY: '0' });
    await drain.waitFor((l) => 'ready' in l);
    expect((await drain.exited).code).toBe(0);
    expect(calls(expectEnded(collector, String(streamId))).length).toBeGreaterThanOrEqual(6);
    await collector.kill();
  });
});

describe('other exits end the stream too', () => {
  it('a process that simply ends (no shutdown call) ends its stream at beforeExit and delivers it', async () => {
    const collector = await startCollector();
    const a = startAgent({ MODE: 'natural', ENDPOINT: collector.url, SPOOL_DIR: tempDir('natural-spool'), READY: '8' });
    const { streamId } = await a.waitFor((l) => 'ready' in l);
    const exit = await a.exited;
    expect(exit.code).toBe(0);
    expect(calls(expectEnded(collector, String(streamId)))).toHaveLength(8);
    await collector.kill();
  });

  it('process.exit() with a call in flight, and an uncaught exception: the call is recorded unfinished, the stream ended, and the next start delivers it', async () => {
    const collector = await startCollector();
    const spool = tempDir('exit-spool');
    const a = startAgent({ MODE: 'exit', ENDPOINT: collector.url, SPOOL_DIR: spool, READY: '5' });
    const { streamId: exited } = await a.waitFor((l) => 'ready' in l);
    expect((await a.exited).code).toBe(0);
    const b = startAgent({ MODE: 'uncaught', ENDPOINT: collector.url, SPOOL_DIR: spool, READY: '5' });
    const { streamId: crashed } = await b.waitFor((l) => 'ready' in l);
    expect((await b.exited).code).toBe(1);
    expect(b.stderr()).toMatch(/agent crashed/);
    const drain = startAgent({ MODE: 'natural', ENDPOINT: collector.url, SPOOL_DIR: spool, READY: '0' });
    await drain.waitFor((l) => 'ready' in l);
    expect((await drain.exited).code).toBe(0);
    const first = expectEnded(collector, String(exited));
    const unfinished = first.filter((r) => r.name === 'tool_intent step');
    expect(unfinished.map((r) => [r.attributes['tooltrail.record'], r.attributes['gen_ai.tool.call.arguments']])).toEqual([['unfinished', '-1']]);
    expect(first.find((r) => r.name.startsWith('invoke_agent'))?.attributes['tooltrail.run.unfinished']).toBe(true);
    const second = expectEnded(collector, String(crashed));
    expect(calls(second)).toHaveLength(5);
    await collector.kill();
  });
});
