import { readFileSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { openTrail, readTrail } from '../src/trail/reader.js';
import { cleanup, jsonRequest, post, startCliCollector, stopCli, tempDir, type CliCollector } from './helpers.js';

// A bounded collector: real `tooltrail collect` processes against bombs, floods and slow
// clients, with memory measured from outside (/proc/<pid>/status).

afterEach(cleanup);

const JSON_HEADERS = { 'content-type': 'application/json' };
const TRACE = '5b8efff798038103d269b633813fc60c';

/** Peak resident memory of a process, MiB. */
function vmHwm(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

function storedBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
}

function lineTypes(dir: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of readdirSync(dir)) {
    for (const l of readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)) {
      const t = (JSON.parse(l) as { t: string }).t;
      counts[t] = (counts[t] ?? 0) + 1;
    }
  }
  return counts;
}

/** OTLP/JSON: one resource with a huge attribute, and `n` tiny spans. */
function bomb(n: number, resourceBytes: number, spanPad = 0): string {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: TRACE,
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: 's',
    kind: 1,
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
    ...(spanPad ? { attributes: [{ key: 'a', value: { stringValue: 'y'.repeat(spanPad) } }] } : {}),
  }));
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(resourceBytes) } }] }, scopeSpans: [{ scope: { name: 'bomb' }, spans }] }],
  });
}

/** A raw HTTP/1.1 client, for clients that misbehave on purpose. */
function rawClient(port: number): { socket: net.Socket; data: () => string; closed: Promise<number> } {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.on('error', () => undefined);
  const start = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
  return { socket, data: () => data, closed };
}

/** Sends a request's headers, then trickles its body one byte per `everyMs` until stopped. */
function trickle(port: number, everyMs = 200): ReturnType<typeof rawClient> & { stop: () => void } {
  const c = rawClient(port);
  c.socket.write(`POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`);
  const timer = setInterval(() => c.socket.writable && c.socket.write(' '), everyMs);
  void c.closed.then(() => clearInterval(timer));
  return { ...c, stop: () => clearInterval(timer) };
}

async function collector(extra: string[] = []): Promise<CliCollector> {
  return startCliCollector(path.join(await tempDir(), 'trail'), extra);
}

describe('per request, the collector stores what the request is worth', () => {
  it('a gzip bomb (one huge resource, thousands of tiny spans) stores the resource once', async () => {
    const c = await collector();
    const body = gzipSync(bomb(5000, 40_000), { level: 9 });
    expect(body.length).toBeLessThan(16_000);
    expect((await post(c.tracesUrl, body, { ...JSON_HEADERS, 'content-encoding': 'gzip' })).status).toBe(200);
    const hwm = vmHwm(c.proc.pid!);
    await stopCli(c);
    // Stored once per span, the resource alone would be 200 MB.
    const stored = storedBytes(c.dir);
    expect(stored).toBeLessThan(2_000_000);
    expect(lineTypes(c.dir)).toEqual({ open: 1, resource: 1, span: 5000, seal: 2 });
    expect(hwm).toBeLessThan(200);
    // Readers still see every span with its resource.
    const t = openTrail(c.dir);
    let n = 0;
    for await (const e of t) if ((e.record.resource.pad as string).length === 40_000) n++;
    expect(n).toBe(5000);
  });

  it('protobuf repeating one resource per ResourceSpans and one scope per ScopeSpans stores each once', async () => {
    const c = await collector();
    const resource = msg(1, kv(1, 'service.name', 'repeated'), kv(1, 'pad', 'r'.repeat(4000)));
    const scope = msg(1, str(1, 'scope'), kv(3, 'pad', 's'.repeat(2000)));
    const parts: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const span = msg(2, bytes(1, Buffer.from(TRACE, 'hex')), bytes(2, Buffer.from((i + 1).toString(16).padStart(16, '0'), 'hex')), str(5, `p-${i}`));
      parts.push(msg(1, resource, msg(2, scope, span)));
    }
    const body = Buffer.concat(parts);
    expect(body.length).toBeGreaterThan(6_000_000);
    expect((await post(c.tracesUrl, body, { 'content-type': 'application/x-protobuf' })).status).toBe(200);
    await stopCli(c);
    expect(lineTypes(c.dir)).toEqual({ open: 1, resource: 1, span: 1000, seal: 2 });
    expect(storedBytes(c.dir)).toBeLessThan(400_000);
    const { records } = await readTrail(c.dir);
    expect(records.map((r) => r.name)).toEqual(Array.from({ length: 1000 }, (_, i) => `p-${i}`));
    expect(new Set(records.map((r) => `${r.resource['service.name']}/${r.scope.name}/${(r.scope.attributes?.pad as string).length}`))).toEqual(new Set(['repeated/scope/2000']));
  });

  it('a deflate or gzip bomb that inflates past --max-body-bytes is refused with 413, without inflating it all', async () => {
    const c = await collector(['--max-body-bytes', String(4 * 1024 * 1024)]);
    const huge = Buffer.alloc(128 * 1024 * 1024, 0x20);
    for (const [encoding, body] of [
      ['deflate', deflateSync(huge, { level: 9 })],
      ['gzip', gzipSync(huge, { level: 9 })],
    ] as const) {
      expect(body.length).toBeLessThan(1_000_000);
      const res = await post(c.tracesUrl, body, { ...JSON_HEADERS, 'content-encoding': encoding });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toEqual({ code: 8, message: expect.stringContaining('once decompressed') });
    }
    expect(vmHwm(c.proc.pid!)).toBeLessThan(150);
    expect((await post(c.tracesUrl, jsonRequest(1, 'after'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
    expect((await readTrail(c.dir)).records.map((r) => r.name)).toEqual(['after-0']);
  }, 30_000);

  it('a request that would store more than --max-stored-bytes is refused with 413, writing nothing', async () => {
    const c = await collector(['--max-stored-bytes', '200000']);
    const res = await post(c.tracesUrl, gzipSync(bomb(1000, 10)), { ...JSON_HEADERS, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).message).toContain('would store more than 200000 bytes (--max-stored-bytes)');
    expect((await post(c.tracesUrl, jsonRequest(2, 'small'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
    expect((await readTrail(c.dir)).records.map((r) => r.name)).toEqual(['small-0', 'small-1']);
  });
});

describe('many tiny spans', () => {
  it('half a million tiny protobuf spans in a 1.3 MB gzip body: 413 before they are decoded, memory bounded', async () => {
    const c = await collector();
    const spans: Buffer[] = [];
    for (let i = 0; i < 500_000; i++) {
      const id = Buffer.alloc(8);
      id.writeUInt32BE(i + 1, 4);
      spans.push(msg(2, bytes(1, Buffer.from(TRACE, 'hex')), bytes(2, id)));
    }
    const body = gzipSync(msg(1, bytes(2, Buffer.concat(spans))));
    expect(body.length).toBeLessThan(1_500_000);
    const res = await post(c.tracesUrl, body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(vmHwm(c.proc.pid!)).toBeLessThan(200);
    // The same in OTLP/JSON, and a request at the limit is taken.
    const c2 = await collector(['--max-spans', '1000']);
    const over = await post(c2.tracesUrl, jsonRequest(1001, 'many'), JSON_HEADERS);
    expect([over.status, JSON.parse(over.body).message]).toEqual([413, 'the request holds more than 1000 spans (--max-spans); send fewer spans per request']);
    expect((await post(c2.tracesUrl, jsonRequest(1000, 'ok'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
    await stopCli(c2);
    expect(lineTypes(c.dir)).toEqual({});
    expect(lineTypes(c2.dir).span).toBe(1000);
  });
});

describe('across requests', () => {
  it('eight concurrent 60 KB bodies: bytes in flight are capped (503 with Retry-After), memory stays bounded, every 200 is on disk', async () => {
    const c = await collector();
    // Each inflates to 14 MB of spans: 2000 spans of 7 KB.
    const body = gzipSync(bomb(2000, 10, 7000), { level: 9 });
    expect(body.length).toBeLessThan(60_000);
    const statuses: number[] = [];
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await fetch(c.tracesUrl, { method: 'POST', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body });
          const text = await res.text();
          return { status: res.status, retryAfter: res.headers.get('retry-after'), text };
        }),
      );
      for (const a of answers) {
        statuses.push(a.status);
        if (a.status === 503) {
          expect(a.retryAfter).toBe('1');
          expect(JSON.parse(a.text)).toEqual({ code: 14, message: expect.stringContaining('--max-inflight-bytes') });
        } else expect(a.status).toBe(200);
      }
    }
    const hwm = vmHwm(c.proc.pid!);
    await stopCli(c);
    const ok = statuses.filter((s) => s === 200).length;
    // 64 MiB in flight hold four of them at once (how many overlap depends on the machine's load).
    expect(ok).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
    expect(c.stderr()).toContain(`stopped on SIGTERM; ${ok * 2000} spans from ${ok} requests`);
    expect(hwm).toBeLessThan(450);
    expect(lineTypes(c.dir).span).toBe(ok * 2000);
  }, 60_000);
});

describe('slow and greedy clients', () => {
  it('a client trickling its body is cut off with 408 at the body deadline; others are served meanwhile', async () => {
    const c = await collector(['--body-timeout-ms', '1500']);
    const slow = trickle(Number(new URL(c.url).port));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    expect((await post(c.tracesUrl, jsonRequest(1, 'fast'), JSON_HEADERS)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
    const closedAfter = await slow.closed;
    expect(closedAfter).toBeGreaterThanOrEqual(1400);
    expect(closedAfter).toBeLessThan(6000);
    expect(slow.data()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.data()).toContain('"message":"the request did not arrive within 1500 ms (--body-timeout-ms)"');
    await stopCli(c);
    expect((await readTrail(c.dir)).records.map((r) => r.name)).toEqual(['fast-0']);
  });

  it('slowloris on the headers: the connection is closed after --headers-timeout-ms', async () => {
    const c = await collector(['--headers-timeout-ms', '1000']);
    const s = rawClient(Number(new URL(c.url).port));
    s.socket.write('POST /v1/traces HTTP/1.1\r\nhost: x\r\n');
    const timer = setInterval(() => s.socket.writable && s.socket.write('x-a: b\r\n'), 200);
    const closedAfter = await s.closed;
    clearInterval(timer);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(5000);
    expect((await post(c.tracesUrl, jsonRequest(1, 'ok'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
  });

  it('headers larger than 16 KiB get 431', async () => {
    const c = await collector();
    const res = await post(c.tracesUrl, jsonRequest(1), { ...JSON_HEADERS, 'x-big': 'h'.repeat(20_000) });
    expect(res.status).toBe(431);
    expect((await post(c.tracesUrl, jsonRequest(1, 'ok'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
  });

  it('past --max-connections new connections are closed at once, and the collector serves again once they go', async () => {
    const c = await collector(['--max-connections', '20']);
    const port = Number(new URL(c.url).port);
    const clients = Array.from({ length: 40 }, () => rawClient(port));
    await Promise.all(clients.map((cl) => new Promise((r) => cl.socket.once('connect', r))));
    const closedCount = () => clients.filter((cl) => cl.socket.destroyed || cl.socket.readableEnded).length;
    for (const t0 = Date.now(); closedCount() < 20 && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(closedCount()).toBe(20);
    for (const cl of clients) cl.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await post(c.tracesUrl, jsonRequest(1, 'ok'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
  });

  it('SIGTERM with a slow client still sending: exits after the grace period, everything acknowledged on disk and sealed', async () => {
    const c = await collector(['--shutdown-grace-ms', '1000', '--body-timeout-ms', '60000']);
    const slow = trickle(Number(new URL(c.url).port));
    for (let i = 0; i < 3; i++) expect((await post(c.tracesUrl, jsonRequest(2, `ack${i}`), JSON_HEADERS)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const { code } = await stopCli(c);
    const took = Date.now() - t0;
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(6000);
    await slow.closed;
    expect(slow.data()).toMatch(/^HTTP\/1\.1 503 |^$/);
    const t = openTrail(c.dir);
    const names: string[] = [];
    for await (const e of t) names.push(e.record.name);
    expect(names).toEqual(['ack0-0', 'ack0-1', 'ack1-0', 'ack1-1', 'ack2-0', 'ack2-1']);
    expect(t.seals.findings).toEqual([]);
    expect(c.stderr()).toContain('stopped on SIGTERM; 6 spans from 3 requests');
  });
});

// A protobuf writer on Buffers (the test helper's number arrays are too slow for megabytes).
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
function bytes(field: number, b: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
}
function str(field: number, s: string): Buffer {
  return bytes(field, Buffer.from(s, 'utf8'));
}
function msg(field: number, ...parts: Buffer[]): Buffer {
  return bytes(field, Buffer.concat(parts));
}
function kv(field: number, key: string, value: string): Buffer {
  return msg(field, str(1, key), msg(2, str(1, value)));
}
