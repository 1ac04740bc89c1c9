import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { generateSigningKeyPair } from '@tooltrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrailRecord } from '../src/trail/record.js';
import { cleanup, runCli, tempDir } from './helpers.js';
import { craftStream, toOtlpJson } from './verify-fixtures.js';

// `verify --jaeger` and `--tempo` read the range in time windows (issue 10, item 5): a window
// whose answer is full is halved and asked again, a trace in two windows is read once, a window
// still full at the smallest size is a source problem, and the output says what was read. Against
// a fake query API with the real Jaeger's matching rules (a span of the service starting inside
// the inclusive range; the whole trace returned; at most num_traces; 404 "No traces found").

const S = '44444444-4444-4444-8444-444444444444';
const SERVICE = 'paged-agent';
const BASE = Date.UTC(2026, 10, 21);
const SINCE = new Date(BASE - 60_000).toISOString();
const UNTIL = new Date(BASE + 3_600_000).toISOString();
const RECORDS = 1200;
let pub: string;
let records: TrailRecord[];
let traceCount: number;

beforeAll(async () => {
  const dir = await tempDir();
  const keys = generateSigningKeyPair();
  pub = path.join(dir, 'signing.pub');
  writeFileSync(pub, keys.publicKeyPem);
  // Three consecutive records per trace, 10 ms apart: traces straddle the window boundaries.
  records = craftStream({
    streamId: S,
    service: SERVICE,
    records: RECORDS,
    signingKey: createPrivateKey(keys.privateKeyPem),
    signingKeyId: keys.keyId,
    checkpointEvery: 50,
    traceOf: (seq) => Math.floor(seq / 3).toString(16).padStart(32, '0'),
  });
  traceCount = new Set(records.map((r) => r.traceId)).size;
});
afterAll(cleanup);

const nsOf = (iso: string) => BigInt(new Date(iso).getTime()) * 1_000_000n;

interface Fake {
  url: string;
  requests: string[];
  close: () => Promise<void>;
}

async function fakeJaeger(all: TrailRecord[], cap = Infinity): Promise<Fake> {
  const byTrace = new Map<string, TrailRecord[]>();
  for (const r of all) byTrace.set(r.traceId, [...(byTrace.get(r.traceId) ?? []), r]);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(u.search);
    if (u.pathname !== '/api/v3/traces') return void res.writeHead(404).end('404 page not found');
    const service = u.searchParams.get('query.service_name');
    const min = nsOf(u.searchParams.get('query.start_time_min')!);
    const max = nsOf(u.searchParams.get('query.start_time_max')!);
    const limit = Math.min(cap, Number(u.searchParams.get('query.num_traces')));
    const found: TrailRecord[][] = [];
    // Newest first, as Jaeger's memory store: a cut answer loses the oldest.
    for (const spans of [...byTrace.values()].reverse()) {
      if (found.length >= limit) break;
      const hit = spans.some((s) => s.resource['service.name'] === service && BigInt(s.startTimeUnixNano) >= min && BigInt(s.startTimeUnixNano) <= max);
      if (hit) found.push(spans);
    }
    if (found.length === 0) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('{"error":{"httpCode":404,"message":"No traces found"}}\n');
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"result":${toOtlpJson(found.flat())}}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface Out {
  verdict: string;
  findings: number;
  sourceProblems: string[];
  read: { traces: number; spans: number; otherSpans: number; queries: number; windows: number; fullWindows: number; smallestWindowMs: number; pageTraces: number };
  report: { streams: { records: number; duplicates: number; findings: { kind: string }[] }[] };
}

async function verify(url: string, extra: string[], json = true): Promise<{ code: number | null; out: Out; text: string }> {
  const run = runCli(['verify', '--jaeger', url, '--service', SERVICE, '--since', SINCE, '--until', UNTIL, '--public-key', pub, ...(json ? ['--json'] : []), ...extra]);
  const { code } = await run.exited;
  return { code, out: json ? (JSON.parse(run.stdout()) as Out) : ({} as Out), text: run.stdout() };
}

describe('verify --jaeger pages by time window', () => {
  it('reads every trace once through windows halved until their answers fit, and says what it read', async () => {
    const jaeger = await fakeJaeger(records);
    try {
      const { code, out } = await verify(jaeger.url, ['--page-traces', '40']);
      expect(out.sourceProblems).toEqual([]);
      expect(code).toBe(0);
      expect(out.verdict).toBe('verified');
      const [stream] = out.report.streams;
      // Nothing read twice: traces on a boundary came back from both windows.
      expect(stream).toMatchObject({ records: RECORDS + 1, duplicates: 0, findings: [] });
      expect(out.read).toMatchObject({ traces: traceCount, spans: records.length, otherSpans: 0, fullWindows: 0, pageTraces: 40 });
      expect(out.read.windows).toBeGreaterThan(records.length / 3 / 40);
      expect(out.read.queries).toBeGreaterThan(out.read.windows); // full answers were asked again, smaller
      expect(out.read.smallestWindowMs).toBeLessThan(3_600_000);
    } finally {
      await jaeger.close();
    }
  });

  it('the one request of the old reader would have lost traces: the same data in one page is cut and reported', async () => {
    // A server that answers at most 100 traces whatever is asked: every window looks complete
    // to a reader that trusts it, so the reader asks for fewer than the server gives.
    const jaeger = await fakeJaeger(records, 100);
    try {
      const { code, out } = await verify(jaeger.url, ['--page-traces', '100', '--min-window', '1h']);
      expect(code).toBe(1);
      expect(out.read.fullWindows).toBe(1);
      expect(out.sourceProblems).toEqual([expect.stringMatching(/returned 100 traces, the page limit \(100\), for .* a window of \d+ ms \(the smallest, --min-window\): traces beyond the limit may be missing/)]);
      // And the gap it leaves is reported too, not hidden.
      expect(out.report.streams[0]!.findings.map((f) => f.kind)).toContain('sequence-gap');
    } finally {
      await jaeger.close();
    }
  });

  it('states the traces and spans read in the human output; an empty range is no error', async () => {
    const jaeger = await fakeJaeger(records);
    try {
      const { text } = await verify(jaeger.url, ['--page-traces', '1000'], false);
      expect(text).toMatch(new RegExp(`read: ${traceCount} trace\\(s\\), ${records.length} span\\(s\\) of the service, in \\d+ quer(y|ies) over \\d+ time window\\(s\\)`));
      const empty = runCli(['verify', '--jaeger', jaeger.url, '--service', 'nobody', '--since', SINCE, '--until', UNTIL, '--json']);
      await empty.exited;
      const out = JSON.parse(empty.stdout()) as Out;
      expect(out.sourceProblems).toEqual([]);
      expect(out.read).toMatchObject({ traces: 0, spans: 0 });
    } finally {
      await jaeger.close();
    }
  });

  it('a failing query API is a source problem per window, and reading stops after three in a row', async () => {
    const run = runCli(['verify', '--jaeger', 'http://127.0.0.1:1', '--service', SERVICE, '--since', '5h', '--json']);
    const { code } = await run.exited;
    const out = JSON.parse(run.stdout()) as Out;
    expect(code).toBe(1);
    expect(out.sourceProblems[0]).toMatch(/^Jaeger query for .* failed: .*; that window was not read$/);
    expect(out.sourceProblems.length).toBe(4);
    expect(out.sourceProblems[3]).toMatch(/three queries in a row failed; stopped reading/);
  });

  it('rejects bad paging options', async () => {
    for (const bad of [['--page-traces', '0'], ['--page-traces', 'x'], ['--min-window', '5'], ['--min-window', '0s']]) {
      const run = runCli(['verify', '--jaeger', 'http://127.0.0.1:1', '--service', 'x', ...bad]);
      expect((await run.exited).code).toBe(2);
    }
    const run = runCli(['verify', '--dir', '.', '--page-traces', '10']);
    expect((await run.exited).code).toBe(2);
  });
});

describe('verify --tempo pages the same way (request shapes only: no Tempo runs here)', () => {
  it('searches window by window, fetches each trace once, and splits full windows', async () => {
    const byTrace = new Map<string, TrailRecord[]>();
    for (const r of records) byTrace.set(r.traceId, [...(byTrace.get(r.traceId) ?? []), r]);
    let fetches = 0;
    const server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/api/search') {
        const start = BigInt(u.searchParams.get('start')!) * 1_000_000_000n;
        const end = BigInt(u.searchParams.get('end')!) * 1_000_000_000n;
        const limit = Number(u.searchParams.get('limit'));
        const traces = [];
        for (const [id, spans] of byTrace) {
          const first = spans.reduce((m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m), BigInt(spans[0]!.startTimeUnixNano));
          const last = spans.reduce((m, s) => (BigInt(s.startTimeUnixNano) > m ? BigInt(s.startTimeUnixNano) : m), 0n);
          if (last >= start && first <= end && traces.length < limit) traces.push({ traceID: id, startTimeUnixNano: String(first) });
        }
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ traces }));
      }
      const m = /^\/api\/v2\/traces\/([0-9a-f]+)$/.exec(u.pathname);
      if (m && byTrace.has(m[1]!)) {
        fetches++;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"trace":${toOtlpJson(byTrace.get(m[1]!)!)}}`);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const run = runCli(['verify', '--tempo', url, '--service', SERVICE, '--since', SINCE, '--until', UNTIL, '--public-key', pub, '--json', '--page-traces', '150']);
      const { code } = await run.exited;
      const out = JSON.parse(run.stdout()) as Out;
      expect(out.sourceProblems).toEqual([]);
      expect(code).toBe(0);
      expect(out.read).toMatchObject({ traces: traceCount, spans: records.length, fullWindows: 0 });
      expect(fetches).toBe(traceCount);
      expect(out.read.smallestWindowMs).toBeGreaterThanOrEqual(1000);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
