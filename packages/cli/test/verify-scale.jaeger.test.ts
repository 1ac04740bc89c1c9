import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAuditor, generateSigningKeyPair, setDefaultAuditor } from '@tooltrail/core';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, cleanup, tempDir } from './helpers.js';

// Issue 10, item 5: 100,000 records written by a real auditor to the real Jaeger of the suite
// (OTLP/HTTP on 127.0.0.1:4318) and verified back through its query API, window by window, with
// the time and peak memory of `tooltrail verify` measured from outside (/usr/bin/time -v).
// docs/performance.md records the figures.

const QUERY = 'http://127.0.0.1:16686';
const RUNS = 4_500;
const CALLS_PER_RUN = 22;
afterAll(cleanup);

interface Timed {
  code: number | null;
  stdout: string;
  seconds: number;
  maxRssKb: number;
}

function timedVerify(args: string[]): Promise<Timed> {
  return new Promise((resolve) => {
    const p = spawn('/usr/bin/time', ['-v', process.execPath, binPath, 'verify', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('close', (code) => {
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(err);
      const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
      resolve({ code, stdout: out, seconds, maxRssKb: rss ? Number(rss[1]) : NaN });
    });
  });
}

describe('tooltrail verify --jaeger at scale', () => {
  it(
    'verifies 100,000 records read back from Jaeger, every trace once, in bounded memory',
    async () => {
      const dir = await tempDir();
      const keys = generateSigningKeyPair();
      const pub = path.join(dir, 'signing.pub');
      const mac = path.join(dir, 'mac.key');
      const macKey = 'jaeger-scale-integrity-key-0123456789';
      writeFileSync(pub, keys.publicKeyPem);
      writeFileSync(mac, macKey);
      const service = `verify-scale-${Date.now()}`;
      const since = new Date(Date.now() - 60_000);

      const t0 = performance.now();
      const auditor = createAuditor({
        serviceName: service,
        endpoint: 'http://127.0.0.1:4318',
        spoolDir: path.join(dir, 'spool'),
        logger: { warn() {} },
        integrity: { macKey, signingKey: keys.privateKeyPem, checkpointEvery: 1000 },
      });
      setDefaultAuditor(undefined);
      const lookup = auditor.withAudit(async (args: { order: string; n: number }) => ({ order: args.order, status: 'shipped', n: args.n }), { name: 'lookup_order' });
      for (let r = 0; r < RUNS; r++) {
        await auditor.run({ principal: { id: `user:${r % 97}` } }, async () => {
          for (let c = 0; c < CALLS_PER_RUN; c++) await lookup({ order: `A-${r}-${c}`, n: c });
        });
      }
      expect(await auditor.shutdown(120_000)).toBe(true);
      const stats = auditor.stats();
      const written = performance.now() - t0;
      // The stream start, one record per call (one attempt: no attempt record), a run span per run,
      // a checkpoint every 1,000 records and the stream end.
      expect(stats.exported).toBeGreaterThanOrEqual(100_000);

      const args = ['--jaeger', QUERY, '--service', service, '--since', since.toISOString(), '--public-key', pub, '--mac-key-file', mac, '--json', '--no-progress'];
      // Jaeger's batch processor stores what it acknowledged within a moment: verify until clean.
      let run: Timed | undefined;
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, i === 0 ? 2000 : 5000));
        run = await timedVerify(args);
        if (run.code === 0) break;
      }
      const out = JSON.parse(run!.stdout) as {
        verdict: string;
        sourceProblems: string[];
        read: { traces: number; spans: number; queries: number; windows: number; smallestWindowMs: number; largestWindowMs: number; pageTraces: number };
        report: { streams: { records: number; duplicates: number; findings: unknown[] }[] };
      };
      console.log(
        `[verify-scale.jaeger] ${stats.exported} records from ${RUNS} runs x ${CALLS_PER_RUN} calls written to Jaeger in ${(written / 1000).toFixed(1)} s; ` +
          `tooltrail verify --jaeger: exit ${run!.code}, ${run!.seconds.toFixed(1)} s, peak RSS ${(run!.maxRssKb / 1024).toFixed(0)} MiB; ` +
          `read ${out.read.traces} traces, ${out.read.spans} spans in ${out.read.queries} queries over ${out.read.windows} windows ` +
          `(${out.read.smallestWindowMs}-${out.read.largestWindowMs} ms, ${out.read.pageTraces} traces per query)`,
      );
      expect(out.sourceProblems).toEqual([]);
      expect(run!.code).toBe(0);
      expect(out.verdict).toBe('verified');
      expect(out.read.spans).toBe(stats.exported);
      expect(out.read.traces).toBeGreaterThan(RUNS); // the runs' traces and the checkpoints'
      expect(out.read.queries).toBeGreaterThan(out.read.windows); // full windows were halved
      const [stream] = out.report.streams;
      // Every exported span is a chained record or a checkpoint.
      expect(stream).toMatchObject({ duplicates: 0, findings: [] });
      expect(stream!.records).toBeGreaterThanOrEqual(100_000);
      // Bounded: one answer of at most 250 traces at a time, and 17 bytes or so per record.
      expect(run!.maxRssKb).toBeLessThan(300 * 1024);
    },
    170_000,
  );
});
