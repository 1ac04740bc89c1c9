import { readdir } from 'node:fs/promises';
import { deflateSync, gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorConfigError, startCollector, type CollectorOptions } from '../src/collector/server.js';
import { readTrail } from '../src/trail/reader.js';
import { cleanup, jsonRequest, post, sdkSpans, startCliCollector, stopCli, tempDir, type CliCollector } from './helpers.js';

// End to end: `tooltrail collect` as its own process, spoken to over HTTP.

afterEach(cleanup);

const JSON_HEADERS = { 'content-type': 'application/json' };
const PROTO_HEADERS = { 'content-type': 'application/x-protobuf' };

async function collector(extra: string[] = []): Promise<CliCollector> {
  return startCliCollector(await tempDir(), extra);
}

async function names(dir: string): Promise<string[]> {
  const { records, problems } = await readTrail(dir);
  expect(problems).toEqual([]);
  return records.map((r) => r.name);
}

describe('tooltrail collect accepts', () => {
  it('OTLP/JSON, answering {} once the lines are on disk', async () => {
    const c = await collector();
    const before = Date.now();
    const res = await post(c.tracesUrl, jsonRequest(3, 'json'), { 'content-type': 'application/json; charset=utf-8' });
    expect(res).toEqual({ status: 200, body: '{}', contentType: 'application/json' });
    // Acknowledged means written: the lines are there before the collector stops.
    const { records, files } = await readTrail(c.dir);
    expect(files).toHaveLength(1);
    expect(records.map((r) => r.name)).toEqual(['json-0', 'json-1', 'json-2']);
    expect(records[1]).toEqual({
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      resource: { 'service.name': 'hand-written' },
      scope: { name: 'test', version: '1.0.0' },
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: '0000000000000002',
      name: 'json-1',
      kind: 1,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000500000000',
      attributes: { i: 1, pad: '' },
      events: [],
      links: [],
      status: { code: 1 },
    });
    expect(Date.parse(records[0]!.receivedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(await stopCli(c)).toEqual({ code: 0, signal: null });
  });

  it('OTLP/JSON compressed with gzip or deflate', async () => {
    const c = await collector();
    expect((await post(c.tracesUrl, gzipSync(jsonRequest(2, 'gz')), { ...JSON_HEADERS, 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post(c.tracesUrl, deflateSync(jsonRequest(1, 'defl')), { ...JSON_HEADERS, 'content-encoding': 'deflate' })).status).toBe(200);
    expect(await names(c.dir)).toEqual(['gz-0', 'gz-1', 'defl-0']);
  });

  it('protobuf, plain and gzip, answering an empty protobuf body', async () => {
    const c = await collector();
    const body = ProtobufTraceSerializer.serializeRequest(sdkSpans())!;
    const plain = await post(c.tracesUrl, body, PROTO_HEADERS);
    expect(plain).toEqual({ status: 200, body: '', contentType: 'application/x-protobuf' });
    const gz = await post(c.tracesUrl, gzipSync(body), { ...PROTO_HEADERS, 'content-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(await names(c.dir)).toEqual(['child', 'parent', 'child', 'parent']);
  });

  it('requests in parallel without ever interleaving their lines', async () => {
    const c = await collector();
    const sizes = [3000, 2000, 2500];
    const answers = await Promise.all(sizes.map((n, i) => post(c.tracesUrl, jsonRequest(n, `req${i}`, 'p'.repeat(200)), JSON_HEADERS)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const all = await names(c.dir);
    expect(all).toHaveLength(7500);
    // Each request's spans form one run, in order.
    let i = 0;
    const runs: string[] = [];
    while (i < all.length) {
      const prefix = all[i]!.split('-')[0]!;
      const n = sizes[Number(prefix.slice(3))]!;
      expect(all.slice(i, i + n)).toEqual(Array.from({ length: n }, (_, j) => `${prefix}-${j}`));
      runs.push(prefix);
      i += n;
    }
    expect(runs.sort()).toEqual(['req0', 'req1', 'req2']);
  });

  it('an empty request, writing nothing', async () => {
    const c = await collector();
    expect((await post(c.tracesUrl, '{}', JSON_HEADERS)).status).toBe(200);
    expect((await post(c.tracesUrl, new Uint8Array(0), PROTO_HEADERS)).status).toBe(200);
    expect(await readdir(c.dir)).toEqual([]);
  });

  it('GET /health', async () => {
    const c = await collector();
    const res = await fetch(`${c.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('tooltrail collect refuses, writing nothing', () => {
  it('malformed JSON with 400 and the parser message', async () => {
    const c = await collector();
    const res = await post(c.tracesUrl, '{"resourceSpans":[{"scopeSpans":', JSON_HEADERS);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ code: 3, message: expect.stringContaining('body is not valid JSON') });
    const wrong = await post(c.tracesUrl, jsonRequest(2).replace('"spanId":"0000000000000002"', '"spanId":"xyz"'), JSON_HEADERS);
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.body).message).toBe('resourceSpans[0].scopeSpans[0].spans[1].spanId must be 16 hex digits');
    expect(await readdir(c.dir)).toEqual([]);
  });

  it('bad protobuf with 400 and a google.rpc.Status body', async () => {
    const c = await collector();
    const good = ProtobufTraceSerializer.serializeRequest(sdkSpans())!;
    const res = await fetch(c.tracesUrl, { method: 'POST', body: good.subarray(0, good.length - 5), headers: PROTO_HEADERS });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    const status = Buffer.from(await res.arrayBuffer());
    expect(status[0]).toBe(0x08); // field 1 (code), varint
    expect(status[1]).toBe(3); // INVALID_ARGUMENT
    expect(status.toString('utf8')).toContain('protobuf: message truncated');
    expect((await post(c.tracesUrl, 'not gzip at all', { ...PROTO_HEADERS, 'content-encoding': 'gzip' })).status).toBe(400);
    expect(await readdir(c.dir)).toEqual([]);
  });

  it('other content types and encodings with 415', async () => {
    const c = await collector();
    const text = await post(c.tracesUrl, jsonRequest(1), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(JSON.parse(text.body).message).toMatch(/unsupported content-type "text\/plain"/);
    expect((await post(c.tracesUrl, jsonRequest(1), { ...JSON_HEADERS, 'content-encoding': 'br' })).status).toBe(415);
    expect(await readdir(c.dir)).toEqual([]);
  });

  it('bodies over --max-body-bytes with 413, on the wire or once decompressed', async () => {
    const c = await collector(['--max-body-bytes', '4096']);
    expect((await post(c.tracesUrl, jsonRequest(1), JSON_HEADERS)).status).toBe(200);
    const big = jsonRequest(1, 'big', 'x'.repeat(5000));
    const res = await post(c.tracesUrl, big, JSON_HEADERS);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).message).toBe('body exceeds the limit of 4096 bytes (--max-body-bytes); send fewer spans per request');
    const bomb = gzipSync(big);
    expect(bomb.length).toBeLessThan(4096);
    expect((await post(c.tracesUrl, bomb, { ...JSON_HEADERS, 'content-encoding': 'gzip' })).status).toBe(413);
    // A body far over the limit is read to its end and thrown away, so the client gets the
    // answer rather than a broken pipe.
    expect((await post(c.tracesUrl, Buffer.alloc(10_000_000, 0x20), JSON_HEADERS)).status).toBe(413);
    expect(await names(c.dir)).toEqual(['span-0']);
  });

  it('other paths with 404, other methods with 405', async () => {
    const c = await collector();
    expect((await post(`${c.url}/v1/metrics`, '{}', JSON_HEADERS)).status).toBe(404);
    const get = await fetch(c.tracesUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await readdir(c.dir)).toEqual([]);
  });
});

describe('startCollector options', () => {
  it('refuses unknown keys (naming the nearest), values out of range, and a non-loopback host without tokens', async () => {
    const dir = await tempDir();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ maxBodyByte: 10 }, /unknown collector option "maxBodyByte"; did you mean "maxBodyBytes"\?/],
      [{ sealkey: 'x' }, /unknown collector option "sealkey"; did you mean "sealKey"\?/],
      [{ frobnicate: 1 }, /^unknown collector option "frobnicate"$/],
      [{ maxSpans: 0 }, /maxSpans must be a positive integer/],
      [{ maxInflightBytes: 1000, maxBodyBytes: 2000 }, /maxInflightBytes \(1000\) must be at least maxBodyBytes \(2000\)/],
      [{ host: '0.0.0.0' }, /refusing to listen on 0\.0\.0\.0 without writer tokens/],
    ];
    for (const [options, message] of bad) {
      const err = await startCollector({ port: 0, dir, ...options } as CollectorOptions).then(
        (c) => c.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(options)).toBeInstanceOf(CollectorConfigError);
      expect(err).toBeInstanceOf(RangeError);
      expect((err as Error).message).toMatch(message);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
