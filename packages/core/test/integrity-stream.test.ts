import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditor, deny, GENESIS_HASH, recordHash, setDefaultAuditor, type AuditorOptions } from '../src/index.js';
import { spanToCanonical } from '../src/integrity/span-record.js';
import { spoolLocation } from '../src/export/spool-location.js';
import { freePort, killAll, tempDir, track } from './collector-harness.js';
import { alice } from './helpers.js';

afterAll(() => killAll());

const repo = path.resolve(new URL('.', import.meta.url).pathname, '../../..');
const agent = path.join(repo, 'packages/core/test/lifecycle-agent.ts');

/** A custom exporter that keeps spans in the order the sink handed them over. */
function keeper() {
  const spans: ReadableSpan[] = [];
  return {
    spans,
    exporter: {
      export: (batch: ReadableSpan[], done: (r: { code: number }) => void) => (spans.push(...batch), done({ code: 0 })),
      shutdown: async () => undefined,
    },
  };
}

function auditor(options: Partial<AuditorOptions> = {}, warnings: string[] = []) {
  const k = keeper();
  const a = createAuditor({ serviceName: 'stream-test', exporter: k.exporter, masking: false, logger: { warn: (m) => warnings.push(m) }, exportQueue: { flushIntervalMs: 1 }, ...options });
  setDefaultAuditor(undefined);
  return { auditor: a, spans: k.spans, warnings };
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('the stream-start record (seq 1)', () => {
  it('begins every stream, chained from genesis, and names the stream before it through the lineage file', async () => {
    const lineageFile = path.join(tempDir('lineage'), 'svc.lineage.json');
    const first = auditor({ integrity: { lineageFile, macKey: 'stream-test-mac-key-0123456789' } });
    await first.auditor.shutdown(2_000);
    const [start1] = first.spans;
    expect(start1!.name).toBe('tooltrail.stream_start');
    expect(start1!.kind).toBe(SpanKind.INTERNAL);
    expect(start1!.parentSpanContext).toBeUndefined();
    const a1 = start1!.attributes;
    expect(Object.keys(a1).sort()).toEqual([
      'tooltrail.hash',
      'tooltrail.mac',
      'tooltrail.prev_hash',
      'tooltrail.seq',
      'tooltrail.stream.id',
      'tooltrail.stream.lineage',
      'tooltrail.stream.started_at',
    ]);
    expect(a1['tooltrail.seq']).toBe(1);
    expect(a1['tooltrail.prev_hash']).toBe(GENESIS_HASH);
    expect(a1['tooltrail.stream.id']).toBe(first.auditor.streamId);
    expect(a1['tooltrail.stream.started_at']).toMatch(ISO_MS);
    expect(recordHash(spanToCanonical(start1!))).toBe(a1['tooltrail.hash']);
    expect(JSON.parse(readFileSync(lineageFile, 'utf8'))).toEqual({
      lineage: a1['tooltrail.stream.lineage'],
      streamId: first.auditor.streamId,
      startedAt: a1['tooltrail.stream.started_at'],
    });

    const second = auditor({ integrity: { lineageFile } });
    const tool = second.auditor.withAudit(async () => 1, { name: 't' });
    await second.auditor.run(alice, () => tool());
    await second.auditor.shutdown(2_000);
    const start2 = second.spans.find((s) => s.name === 'tooltrail.stream_start')!;
    expect(start2.attributes).toMatchObject({
      'tooltrail.seq': 1,
      'tooltrail.stream.lineage': a1['tooltrail.stream.lineage'],
      'tooltrail.stream.prev_id': first.auditor.streamId,
      'tooltrail.stream.prev_started_at': a1['tooltrail.stream.started_at'],
    });
    // Calls come after it: seq 2 onwards.
    expect(second.spans.find((s) => s.name === 'execute_tool t')!.attributes['tooltrail.seq']).toBe(2);
    expect(JSON.parse(readFileSync(lineageFile, 'utf8')).streamId).toBe(second.auditor.streamId);
  });

  it('uses <spoolDir>/<namespace>.lineage.json with the built-in exporter; with a custom exporter only a given file', async () => {
    const spoolDir = tempDir('lineage-spool');
    const warnings: string[] = [];
    const built = createAuditor({
      serviceName: 'lineage svc/1',
      endpoint: `http://127.0.0.1:${await freePort()}`,
      spoolDir,
      logger: { warn: (m) => warnings.push(m) },
      export: { handleProcessExit: false },
    });
    setDefaultAuditor(undefined);
    const { lineageFile } = spoolLocation('lineage svc/1', spoolDir);
    expect(JSON.parse(readFileSync(lineageFile, 'utf8')).streamId).toBe(built.streamId);
    await built.shutdown(50);
    // Custom exporters: each stream is a lineage of its own, and no file appears anywhere.
    const a = auditor({ spoolDir });
    const b = auditor({ spoolDir });
    await Promise.all([a.auditor.shutdown(1_000), b.auditor.shutdown(1_000)]);
    const la = a.spans[0]!.attributes;
    const lb = b.spans[0]!.attributes;
    expect(la['tooltrail.stream.lineage']).not.toBe(lb['tooltrail.stream.lineage']);
    expect(la).not.toHaveProperty('tooltrail.stream.prev_id');
    expect(existsSync(spoolLocation('stream-test', spoolDir).lineageFile)).toBe(false);
  });

  it('a damaged lineage file is warned about and a new lineage begins; it is then repaired', async () => {
    const lineageFile = path.join(tempDir('lineage-bad'), 'x.lineage.json');
    writeFileSync(lineageFile, '{"lineage": 3');
    const warnings: string[] = [];
    const a = auditor({ integrity: { lineageFile } }, warnings);
    await a.auditor.shutdown(1_000);
    expect(warnings.some((w) => w.includes(`stream lineage file ${lineageFile} is unusable`))).toBe(true);
    expect(a.spans[0]!.attributes).not.toHaveProperty('tooltrail.stream.prev_id');
    expect(JSON.parse(readFileSync(lineageFile, 'utf8')).streamId).toBe(a.auditor.streamId);
  });

  it('auditors starting at once in several processes still form one chain, not a fork', async () => {
    const lineageFile = path.join(tempDir('lineage-race'), 'race.lineage.json');
    const n = 4;
    const runs = Array.from({ length: n }, async () => {
      const proc = track(spawn(process.execPath, ['--import', 'tsx', agent], { cwd: repo, env: { ...process.env, MODE: 'lineage', LINEAGE_FILE: lineageFile }, stdio: ['ignore', 'pipe', 'inherit'] }));
      let out = '';
      proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      const [code] = await once(proc, 'exit');
      expect(code).toBe(0);
      return JSON.parse(out.trim().split('\n').pop()!) as { streamId: string; start: Record<string, unknown> };
    });
    const streams = await Promise.all(runs);
    const ids = new Set(streams.map((s) => s.streamId));
    const prevs = streams.map((s) => s.start['tooltrail.stream.prev_id']);
    // Exactly one first stream; every other names a distinct earlier one of these streams.
    expect(prevs.filter((p) => p === undefined)).toHaveLength(1);
    const named = prevs.filter((p): p is string => typeof p === 'string');
    expect(new Set(named).size).toBe(n - 1);
    for (const p of named) expect(ids.has(p)).toBe(true);
    expect(new Set(streams.map((s) => s.start['tooltrail.stream.lineage'])).size).toBe(1);
    // The file names the stream nobody names yet: the newest.
    const newest = [...ids].find((id) => !named.includes(id));
    expect(JSON.parse(readFileSync(lineageFile, 'utf8')).streamId).toBe(newest);
    expect(existsSync(`${lineageFile}.lock`)).toBe(false);
  });
});

describe('checkpoints every N records, however busy the loop', () => {
  /** For each checkpoint, the seq of the record the sink got just before it. */
  function positions(spans: readonly ReadableSpan[]): [number, number][] {
    const out: [number, number][] = [];
    let lastSeq = 0;
    for (const s of spans) {
      if (s.name === 'tooltrail.checkpoint') out.push([Number(s.attributes['tooltrail.checkpoint.seq_end']), lastSeq]);
      else lastSeq = Number(s.attributes['tooltrail.seq']);
    }
    return out;
  }

  it('an awaited loop that never yields to the event loop (microtasks only) gets one checkpoint per N records, right after the Nth', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const a = auditor({ integrity: { signingKey: privateKey, checkpointEvery: 100, checkpointIntervalMs: 0 } });
    const tool = a.auditor.withAudit(async (n: number) => n, { name: 't' });
    let macrotaskRan = false;
    setImmediate(() => (macrotaskRan = true));
    await a.auditor.run(alice, async () => {
      for (let i = 0; i < 500; i++) await tool(i);
      // 1 stream start + 500 calls so far: checkpoints at 100..500, all while no macrotask ran.
      expect(macrotaskRan).toBe(false);
    });
    await a.auditor.shutdown(2_000);
    expect(positions(a.spans)).toEqual([
      [1, 1], // the signed stream start
      [100, 100],
      [200, 200],
      [300, 300],
      [400, 400],
      [500, 500],
      [502, 502], // the run span, then the stream end
    ]);
  });

  it('a synchronous loop (denied calls recorded without any await) gets them too', async () => {
    const a = auditor({ integrity: { checkpointEvery: 50, checkpointIntervalMs: 0 }, policy: [() => deny('no')] });
    const tool = a.auditor.withAudit(async () => 1, { name: 'd' });
    await a.auditor.run(alice, async () => {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < 120; i++) pending.push(tool().catch(() => undefined));
      // Nothing awaited yet: 121 records, two checkpoints, already in the sink's queue.
      expect(a.auditor.stats().recorded).toBe(121 + 2);
      await Promise.all(pending);
    });
    await a.auditor.shutdown(2_000);
    expect(positions(a.spans)).toEqual([
      [50, 50],
      [100, 100],
      [122, 122],
    ]);
  });
});
