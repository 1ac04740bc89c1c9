/**
 * The OpenTelemetry environment (docs/export.md, "The OpenTelemetry environment"), the detected
 * resource attributes, and the http/protobuf + gzip wire format: the protobuf encoder gives the
 * collector's decoder exactly the spans the JSON path gives it, and delivery through a real
 * `tooltrail collect` works with protobuf and gzip.
 */
import http from 'node:http';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditConfigError, createAuditor, currentCall, setDefaultAuditor, type AuditorOptions } from '../src/index.js';
import { AuditorImpl } from '../src/auditor/auditor.js';
import { encodeTraceRequest } from '../src/export/wire/otlp-json.js';
import { encodeTraceRequestProtobuf, protobufFromJson, protobufPartialRejection } from '../src/export/wire/otlp-protobuf.js';
import { parseKeyValueList, resetToggleWarning, resolveHeaders } from '../src/auditor/otel-env.js';
import { decodeJsonRequest } from '../../cli/src/collector/otlp-json.js';
import { decodeProtobufRequest } from '../../cli/src/collector/otlp-protobuf.js';
import { killAll, readRecords, startCollector, tempDir } from './collector-harness.js';

const who = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'env-bot' } };

afterEach(() => {
  killAll();
  setDefaultAuditor(undefined);
});

type Env = Record<string, string | undefined>;

function make(options: Partial<AuditorOptions>, env: Env = {}) {
  const warnings: string[] = [];
  const auditor = new AuditorImpl(
    {
      spoolDir: tempDir('env-spool'),
      logger: { warn: (m: string) => warnings.push(m) },
      integrity: false,
      ...options,
      export: { initialBackoffMs: 20, maxBackoffMs: 200, timeoutMs: 2_000, warnAfterMs: 0, handleProcessExit: false, ...options.export },
    } as AuditorOptions,
    env,
  );
  return { auditor, warnings };
}

function configError(fn: () => unknown): AuditConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuditConfigError);
    return err as AuditConfigError;
  }
  throw new Error('expected an AuditConfigError');
}

interface Captured {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An OTLP/HTTP receiver that keeps every request and answers `answer(req)` (200 by default). */
async function capture(answer?: (c: Captured, n: number) => { status: number; body?: Buffer | string; type?: string }) {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const c = { headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(c);
      const a = answer?.(c, requests.length) ?? { status: 200 };
      res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' }).end(a.body ?? '{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The spans of a captured request, decoded by the collector's decoders whatever its encoding. */
function spansOf(c: Captured) {
  const raw = c.headers['content-encoding'] === 'gzip' ? gunzipSync(c.body) : c.body;
  return String(c.headers['content-type']).includes('protobuf') ? decodeProtobufRequest(raw) : decodeJsonRequest(raw.toString('utf8'));
}

async function oneCall(options: Partial<AuditorOptions>, env: Env = {}) {
  const { auditor, warnings } = make(options, env);
  const tool = auditor.withAudit(async (n: number) => n * 2, { name: 'double' });
  await auditor.run(who, () => tool(21));
  const ok = await auditor.shutdown(5_000);
  return { auditor, warnings, ok };
}

describe('the OpenTelemetry environment', () => {
  it('OTEL_SERVICE_NAME names the service when serviceName is not given; the option beats it; neither is a clear error', async () => {
    const srv = await capture();
    try {
      await oneCall({ endpoint: srv.url }, { OTEL_SERVICE_NAME: 'from-env' });
      expect(spansOf(srv.requests[0]!)[0]!.resource['service.name']).toBe('from-env');
      await oneCall({ endpoint: srv.url, serviceName: 'from-option' }, { OTEL_SERVICE_NAME: 'from-env' });
      expect(spansOf(srv.requests.at(-1)!)[0]!.resource['service.name']).toBe('from-option');
      // As the SDK does: service.name in OTEL_RESOURCE_ATTRIBUTES when OTEL_SERVICE_NAME is unset.
      await oneCall({ endpoint: srv.url }, { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource' });
      expect(spansOf(srv.requests.at(-1)!)[0]!.resource['service.name']).toBe('from-resource');
    } finally {
      await srv.close();
    }
    const err = configError(() => make({}, {}));
    expect(err.message).toMatch(/serviceName.*OTEL_SERVICE_NAME/);
  });

  it('resource: detected < OTEL_RESOURCE_ATTRIBUTES (percent-decoded, malformed entries warned about and skipped) < resourceAttributes', async () => {
    const srv = await capture();
    try {
      const { warnings } = await oneCall(
        { endpoint: srv.url, serviceName: 'res', resourceAttributes: { 'deployment.environment.name': 'prod', 'host.name': 'option-host' } },
        { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging, team=a%20b%2Cc ,broken,=nokey,os.type=plan9,k%C3%A9y=v%C3%A4l' },
      );
      const r = spansOf(srv.requests[0]!)[0]!.resource;
      expect(r).toMatchObject({
        'service.name': 'res',
        'deployment.environment.name': 'prod',
        'host.name': 'option-host',
        team: 'a b,c',
        'os.type': 'plan9',
        'kéy': 'väl',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.language': 'nodejs',
        'telemetry.distro.name': 'tooltrail',
        'process.pid': process.pid,
        'process.runtime.name': 'nodejs',
        'process.runtime.version': process.versions.node,
      });
      expect(typeof r['telemetry.sdk.version']).toBe('string');
      expect(r['host.arch']).toBe(process.arch === 'x64' ? 'amd64' : expect.any(String));
      expect(warnings.join('\n')).toMatch(/OTEL_RESOURCE_ATTRIBUTES: ignored 2 malformed entries \("broken", "=nokey"\)/);
    } finally {
      await srv.close();
    }
  });

  it('headers: generic < TRACES_ < options, key by key and case-insensitively, percent-decoded; a malformed entry is a config error', async () => {
    expect(
      resolveHeaders(
        { 'X-Tenant': 'opt' },
        { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20generic,x-tenant=generic,x-a=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20t%3D%3D' },
      ),
    ).toEqual({ authorization: 'Bearer t==', 'x-tenant': 'opt', 'x-a': '1' });
    expect(parseKeyValueList(' a = 1 ,, b=%E2%9C%93 ').entries).toEqual([
      ['a', '1'],
      ['b', '✓'],
    ]);
    const err = configError(() => make({ serviceName: 'h' }, { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization' }));
    expect(err.message).toMatch(/OTEL_EXPORTER_OTLP_TRACES_HEADERS holds malformed entries/);
    const srv = await capture();
    try {
      await oneCall({ endpoint: srv.url, serviceName: 'h', headers: { 'x-tenant': 'opt' } }, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=env' });
      expect(srv.requests[0]!.headers.authorization).toBe('Bearer abc');
      expect(srv.requests[0]!.headers['x-tenant']).toBe('opt');
    } finally {
      await srv.close();
    }
  });

  it('protocol and compression: TRACES_ beats generic, options beat both; grpc and unknown values are config errors', async () => {
    const srv = await capture();
    try {
      await oneCall({ endpoint: srv.url, serviceName: 'p' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
      let c = srv.requests.at(-1)!;
      expect(c.headers['content-type']).toBe('application/x-protobuf');
      expect(c.headers['content-encoding']).toBe('gzip');
      expect(spansOf(c).map((s) => s.name).sort()).toEqual(['execute_tool double', 'invoke_agent env-bot']);
      await oneCall({ endpoint: srv.url, serviceName: 'p', protocol: 'http/json', compression: 'none' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip' });
      c = srv.requests.at(-1)!;
      expect(c.headers['content-type']).toBe('application/json');
      expect(c.headers['content-encoding']).toBeUndefined();
      expect(spansOf(c)).toHaveLength(2);
    } finally {
      await srv.close();
    }
    expect(configError(() => make({ serviceName: 'g' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).message).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc.*OTLP\/HTTP only.*4318/);
    expect(configError(() => make({ serviceName: 'g' }, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).message).toMatch(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="thrift"/);
    expect(configError(() => make({ serviceName: 'g' }, { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).message).toMatch(/OTEL_EXPORTER_OTLP_COMPRESSION="zstd".*gzip or none/);
    expect(configError(() => make({ serviceName: 'g', protocol: 'grpc' as never })).issues?.join('\n')).toMatch(/protocol "grpc" is not supported/);
    expect(configError(() => make({ serviceName: 'g', compression: 'br' as never })).issues?.join('\n')).toMatch(/compression/);
    expect(configError(() => make({ serviceName: 'g', protocl: 'http/json' } as never)).issues?.join('\n')).toMatch(/did you mean `protocol`/);
    expect(() => createAuditor({ serviceName: 'g', exporter: { export() {}, shutdown: async () => {} } as never, protocol: 'http/protobuf' })).toThrow(/custom exporter/);
  });

  it('OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT is the request deadline unless export.timeoutMs is given; garbage is a config error', async () => {
    // A collector that never answers: the deadline cuts the request off with a warning naming it.
    const hang = http.createServer(() => undefined);
    hang.listen(0, '127.0.0.1');
    await once(hang, 'listening');
    const url = `http://127.0.0.1:${(hang.address() as { port: number }).port}`;
    try {
      const { auditor, warnings } = make({ endpoint: url, serviceName: 't', export: { timeoutMs: undefined } }, { OTEL_EXPORTER_OTLP_TIMEOUT: '9000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '150' });
      const tool = auditor.withAudit(async () => 1, { name: 'one' });
      await auditor.run(who, () => tool());
      await auditor.flush(600);
      expect(warnings.join('\n')).toMatch(/within 150 ms/);
      await auditor.shutdown(100);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
    expect(configError(() => make({ serviceName: 't', export: { timeoutMs: undefined } }, { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' })).message).toMatch(/OTEL_EXPORTER_OTLP_TIMEOUT="10s" must be a positive number of milliseconds/);
  });

  it('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none do not switch the trail off: said once, naming the variable', async () => {
    resetToggleWarning();
    const srv = await capture();
    try {
      const first = await oneCall({ endpoint: srv.url, serviceName: 'toggle' }, { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'none' });
      expect(first.ok).toBe(true);
      expect(first.warnings.filter((w) => /OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none are set.*keeps recording/.test(w))).toHaveLength(1);
      const second = await oneCall({ endpoint: srv.url, serviceName: 'toggle' }, { OTEL_SDK_DISABLED: 'true' });
      expect(second.warnings.some((w) => w.includes('OTEL_SDK_DISABLED'))).toBe(false);
      expect(srv.requests.flatMap(spansOf).filter((s) => s.name === 'execute_tool double')).toHaveLength(2);
    } finally {
      await srv.close();
      resetToggleWarning();
    }
  });

  it('attempt spans carry no gen_ai.operation.name; the call span does', async () => {
    const srv = await capture();
    try {
      // Attempt records exist for calls that may retry (one attempt only: none, docs/decisions.md).
      const { auditor } = make({ endpoint: srv.url, serviceName: 'attempts' }, {});
      let first = true;
      const tool = auditor.withAudit(
        async (n: number) => {
          if (first) throw new Error(String((first = false)));
          return n * 2;
        },
        { name: 'double', retry: { attempts: 2, backoffMs: 0 } },
      );
      await auditor.run(who, () => tool(21));
      expect(await auditor.shutdown(5_000)).toBe(true);
      const spans = srv.requests.flatMap(spansOf);
      expect(spans.filter((s) => s.name === 'tool_attempt double')).toHaveLength(2);
      expect(spans.find((s) => s.name === 'tool_attempt double')!.attributes).not.toHaveProperty('gen_ai.operation.name');
      expect(spans.find((s) => s.name === 'execute_tool double')!.attributes['gen_ai.operation.name']).toBe('execute_tool');
    } finally {
      await srv.close();
    }
  });
});

// ---- the protobuf encoder -------------------------------------------------------------------

const resource = { attributes: { 'service.name': 'proto', 'process.pid': 4242, 'x.flag': true } };
const scope = { name: '@tooltrail/core', version: '9.9.9' };
const huge = 'ü€😀'.repeat(60_000) + 'x'.repeat(200_000); // well past one-byte and two-byte lengths

function fakeSpan(over: Partial<Record<string, unknown>> & { id: string }): ReadableSpan {
  const { id, ...rest } = over;
  return {
    name: 'execute_tool send_email',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: id, traceFlags: TraceFlags.SAMPLED }),
    parentSpanContext: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED },
    startTime: [1_767_225_600, 123_456_789],
    endTime: [1_767_225_601, 5],
    status: { code: SpanStatusCode.OK },
    attributes: {},
    links: [],
    events: [],
    duration: [1, 0],
    ended: true,
    resource: resource as never,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...rest,
  } as unknown as ReadableSpan;
}

function sampleSpans(): ReadableSpan[] {
  return [
    fakeSpan({
      id: '00f067aa0ba902b7',
      attributes: {
        s: 'plain',
        empty: '',
        unicode: 'naïve – 日本語 – 😀 – \u0000 nul',
        huge,
        t: true,
        f: false,
        zero: 0,
        neg: -42,
        big: 2 ** 53 - 1,
        negBig: -(2 ** 53 - 1),
        past53: 2 ** 60, // an integer past 2^53 still fits int64
        past63: 2 ** 70, // does not: a double
        dbl: 3.25,
        negDbl: -1e-300,
        nan: NaN,
        inf: Infinity,
        ninf: -Infinity,
        strs: ['a', '', 'ü'],
        nums: [1, -2, 3.5],
        bools: [true, false],
        emptyArr: [],
      },
      status: { code: SpanStatusCode.ERROR, message: 'it broke – ünïcode' },
      events: [
        { name: 'exception', time: [1_767_225_600, 999_999_999], attributes: { 'exception.type': 'TypeError', 'exception.message': 'x'.repeat(300) }, droppedAttributesCount: 0 },
        { name: 'bare', time: [0, 7] },
      ],
      links: [{ context: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001', traceFlags: 1 }, attributes: { why: 'retry of' } }],
      droppedAttributesCount: 3,
    }),
    fakeSpan({ id: '1111111111111111', name: 'tool_attempt send_email', parentSpanContext: undefined, status: { code: SpanStatusCode.UNSET }, kind: SpanKind.CLIENT, startTime: [0, 0], endTime: [18_446_744_073, 709_551_615] }),
  ];
}

describe('the http/protobuf encoder', () => {
  it('gives the collector decoder exactly the spans the JSON path gives it: int64 times, attributes of every type, events, links, status, huge and unicode strings', () => {
    const spans = sampleSpans();
    const fromJson = decodeJsonRequest(encodeTraceRequest(spans));
    const fromProto = decodeProtobufRequest(encodeTraceRequestProtobuf(spans));
    expect(fromJson).toHaveLength(2);
    expect(fromProto).toEqual(fromJson);
    // The spool's JSON transcoded at send time is the same bytes as encoding the spans directly.
    expect(protobufFromJson(encodeTraceRequest(spans)).equals(encodeTraceRequestProtobuf(spans))).toBe(true);
    const a = fromProto[0]!;
    expect(a.startTimeUnixNano).toBe('1767225600123456789');
    expect(fromProto[1]!.endTimeUnixNano).toBe('18446744073709551615');
    expect(a.attributes.huge).toBe(huge);
    expect(a.attributes.past53).toBe(BigInt(2 ** 60).toString());
    expect(a.attributes.past63).toBe(2 ** 70);
    expect(a.attributes.nan).toBe('NaN');
    expect(a.attributes.negBig).toBe(-(2 ** 53 - 1));
    expect(a.status).toEqual({ code: 2, message: 'it broke – ünïcode' });
  });

  it('reads a protobuf partialSuccess answer', () => {
    // ExportTraceServiceResponse { partial_success { rejected_spans: 2, error_message: "no" } }
    const inner = Buffer.from([0x08, 0x02, 0x12, 0x02, 0x6e, 0x6f]);
    expect(protobufPartialRejection(Buffer.concat([Buffer.from([0x0a, inner.length]), inner]))).toEqual({ rejected: 2, message: 'no' });
    expect(protobufPartialRejection(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('protobuf and gzip on the wire', () => {
  it('413 on a protobuf request splits it down to single records, each re-encoded as protobuf; one too large alone is quarantined as replayable JSON', async () => {
    const srv = await capture((c) => {
      const n = spansOf(c).length;
      const tooBig = spansOf(c).some((s) => String(s.attributes['gen_ai.tool.call.arguments'] ?? '').includes('HUGE'));
      return n > 1 || tooBig ? { status: 413, body: 'too large' } : { status: 200, body: Buffer.alloc(0), type: 'application/x-protobuf' };
    });
    try {
      const { auditor, warnings } = make({ endpoint: srv.url, serviceName: 'split', protocol: 'http/protobuf', compression: 'gzip', masking: false, export: { flushIntervalMs: 5_000 } });
      const tool = auditor.withAudit(async (s: string) => s.length, { name: 'len' });
      await auditor.run(who, async () => {
        for (let i = 0; i < 4; i++) await tool(`call ${i}`);
        await tool('HUGE');
      });
      expect(await auditor.shutdown(10_000)).toBe(false); // one record quarantined
      const s = auditor.stats();
      expect(s.quarantined).toBe(1);
      expect(s.exported).toBe(s.recorded - 1);
      for (const c of srv.requests) {
        expect(c.headers['content-type']).toBe('application/x-protobuf');
        expect(c.headers['content-encoding']).toBe('gzip');
      }
      const delivered = srv.requests.filter((c) => spansOf(c).length === 1 && !String(spansOf(c)[0]!.attributes['gen_ai.tool.call.arguments'] ?? '').includes('HUGE'));
      expect(delivered.length).toBe(s.recorded - 1);
      const q = warnings.find((w) => w.includes('quarantined in'))!;
      const file = /quarantined in (\S+rejected\.jsonl)/.exec(q)![1]!;
      const { readFileSync } = await import('node:fs');
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { request: unknown; status: number };
      expect(line.status).toBe(413);
      expect(decodeJsonRequest(JSON.stringify(line.request))[0]!.attributes['gen_ai.tool.call.arguments']).toContain('HUGE');
    } finally {
      await srv.close();
    }
  });

  it('a spool written as JSON by an earlier process is delivered after a switch to http/protobuf + gzip', async () => {
    const spoolDir = tempDir('switch-spool');
    // Nothing listens: the first process spools, and exits with everything undelivered.
    const dead = await capture(() => ({ status: 503 }));
    const first = new AuditorImpl(
      { serviceName: 'switch', endpoint: dead.url, spoolDir, integrity: false, logger: { warn() {} }, export: { initialBackoffMs: 10_000, handleProcessExit: false } },
      {},
    );
    const tool = first.withAudit(async () => 'x', { name: 'x' });
    await first.run(who, async () => {
      for (let i = 0; i < 3; i++) await tool();
    });
    expect(await first.shutdown(300)).toBe(false);
    await dead.close();
    const srv = await capture(() => ({ status: 200, body: Buffer.alloc(0), type: 'application/x-protobuf' }));
    try {
      const second = new AuditorImpl(
        { serviceName: 'switch', endpoint: srv.url, spoolDir, integrity: false, logger: { warn() {} }, protocol: 'http/protobuf', compression: 'gzip', export: { ownerStaleMs: 30_000, handleProcessExit: false } },
        {},
      );
      expect(await second.shutdown(5_000)).toBe(true);
      expect(second.stats().replayed).toBe(first.stats().recorded);
      const names = srv.requests.flatMap(spansOf).map((s) => s.name);
      expect(names.filter((n) => n === 'execute_tool x')).toHaveLength(3);
      for (const c of srv.requests) expect(c.headers['content-type']).toBe('application/x-protobuf');
    } finally {
      await srv.close();
    }
  });

  it('delivers to a real `tooltrail collect` over http/protobuf with gzip', async () => {
    const collector = await startCollector();
    try {
      const auditor = createAuditor({
        serviceName: 'collect-proto',
        endpoint: collector.url,
        spoolDir: tempDir('collect-proto-spool'),
        protocol: 'http/protobuf',
        compression: 'gzip',
        logger: { warn() {} },
        export: { handleProcessExit: false },
      });
      const tool = auditor.withAudit(async (n: number) => ({ n, id: currentCall()!.callId }), { name: 'step' });
      const ids: string[] = [];
      await auditor.run(who, async () => {
        for (let i = 0; i < 50; i++) ids.push((await tool(i)).id);
      });
      expect(await auditor.shutdown(10_000)).toBe(true);
      const records = readRecords(collector.dir);
      const calls = records.filter((r) => r.name === 'execute_tool step').map((r) => r.attributes['gen_ai.tool.call.id']);
      expect(new Set(calls)).toEqual(new Set(ids));
      expect(records.some((r) => r.name === 'tooltrail.checkpoint')).toBe(true);
    } finally {
      await collector.kill();
    }
  });
});
