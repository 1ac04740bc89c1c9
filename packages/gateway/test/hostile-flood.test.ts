import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, track, type Collector } from '../../core/test/collector-harness.js';
import { cliBin, executeTool, tempDir, writeConfig } from './fixtures/harness.js';
import { hostileServer, INIT, INITIALIZED, type Message } from './fixtures/hostile-harness.js';

/**
 * A server that writes 100,000 log notifications at once to an agent that reads slowly: the
 * gateway's memory stays bounded (it stops reading the server while the agent is behind), every
 * notification arrives or is counted, and the next call is answered and recorded.
 */

const FLOOD = 100_000;
/**
 * Peak resident memory the gateway may reach during the flood. Measured: ~88 MiB idle, ~210 MiB
 * at the end of a flood of 100,000 and of 300,000 alike (the heap V8 keeps for the SDK's
 * per-message garbage), ~620 MiB before backpressure (every notification queued).
 */
const MAX_PEAK_KIB = 256 * 1024;

let collector: Collector;
let gw: ChildProcess;
const lines: Message[] = [];
let partial = '';
let reading = false;

/** The agent reads 16 KiB every 5 ms once `reading` is set: about 3 MiB/s, far slower than the server writes. */
function slowReader(proc: ChildProcess): void {
  const out = proc.stdout!;
  out.pause();
  const timer = setInterval(() => {
    if (!reading) return;
    const chunk = (out.read(16 * 1024) as Buffer | null) ?? (out.read() as Buffer | null);
    if (chunk === null) return;
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const p of parts) if (p !== '') lines.push(JSON.parse(p) as Message);
  }, 5);
  proc.once('exit', () => clearInterval(timer));
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function peakKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-hostile-flood');
  const config = writeConfig(dir, {
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    servers: [hostileServer('bad', { principal: { id: 'svc:flood' }, requestTimeoutMs: 60_000 })],
  });
  gw = track(spawn(process.execPath, [cliBin, 'gateway', '--config', config], { stdio: ['pipe', 'pipe', 'inherit'] }));
  slowReader(gw);
  reading = true;
  gw.stdin!.write(`${INIT}\n`);
  await until('initialize', () => lines.some((m) => m.id === 0), 15_000);
  gw.stdin!.write(`${INITIALIZED}\n`);
});

afterAll(() => killAll());

const call = (id: number, name: string, args: Record<string, unknown> = {}) =>
  `${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: { 'tooltrail/callId': `flood-${id}` } } })}\n`;

describe('a server that floods notifications', () => {
  it('keeps the gateway bounded while a slow agent reads 100,000 of them, and loses none without saying so', async () => {
    // The agent stops reading for a while: everything the server writes piles up in front of it.
    reading = false;
    process.stderr.write(`hostile-flood: before VmHWM ${Math.round(peakKiB(gw.pid!) / 1024)} MiB\n`);
    gw.stdin!.write(call(1, 'flood', { n: FLOOD }));
    await new Promise((r) => setTimeout(r, 1_500));
    reading = true;
    await until('the flood answer', () => lines.some((m) => m.id === 1), 25_000);
    const logs = lines.filter((m) => m.method === 'notifications/message' && String((m.params as { data: unknown }).data).startsWith('log '));
    const notices = lines.filter((m) => m.method === 'notifications/message' && (m.params as { logger?: unknown }).logger === 'tooltrail-gateway');
    const dropped = notices.reduce((n, m) => n + Number(/(\d+) notifications/.exec(String((m.params as { data: unknown }).data))?.[1] ?? 0), 0);
    expect(logs.length + dropped).toBe(FLOOD);
    // stdio to stdio is paused end to end: nothing had to be dropped.
    expect(dropped).toBe(0);
    expect(logs.length).toBe(FLOOD);
    expect((logs.at(-1)!.params as { data: unknown }).data).toBe(`log ${FLOOD - 1}`);
    expect(lines.find((m) => m.id === 1)).toMatchObject({ result: { content: [{ type: 'text', text: `flooded ${FLOOD}` }] } });
    const peak = peakKiB(gw.pid!);
    process.stderr.write(`hostile-flood: gateway VmHWM ${Math.round(peak / 1024)} MiB\n`);
    expect(peak).toBeLessThan(MAX_PEAK_KIB);
  }, 40_000);

  it('answers and records the next call', async () => {
    gw.stdin!.write(call(2, 'ok'));
    await until('the next answer', () => lines.some((m) => m.id === 2), 10_000);
    expect(lines.find((m) => m.id === 2)).toMatchObject({ result: { content: [{ type: 'text', text: 'fine' }] } });
    const exited = new Promise((r) => gw.once('exit', r));
    gw.stdin!.end();
    await exited;
    await collector.kill();
    const calls = executeTool(collector.dir).map((c) => [c.attributes['gen_ai.tool.call.id'], c.attributes['tooltrail.outcome']]);
    expect(calls).toEqual([
      ['flood-1', 'ok'],
      ['flood-2', 'ok'],
    ]);
  }, 20_000);
});
