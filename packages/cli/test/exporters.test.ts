import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createAuditor } from '@tooltrail/core';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrail } from '../src/trail/reader.js';
import { cleanup, recordSampleSpans, sampleAttributes, sdkProvider, startCliCollector, stopCli, tempDir } from './helpers.js';

// Real encoders against the real collector process: the stock OTel exporters (JSON and
// protobuf, with and without gzip) and tooltrail's own auditor.

afterEach(cleanup);

const exporters = [
  { name: 'exporter-trace-otlp-proto', make: (url: string, compression: CompressionAlgorithm) => new ProtoExporter({ url, compression }) },
  { name: 'exporter-trace-otlp-http (JSON)', make: (url: string, compression: CompressionAlgorithm) => new HttpJsonExporter({ url, compression }) },
];

describe.each(exporters)('the stock $name', ({ make }) => {
  it.each([CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP])('round-trips every attribute type exactly (compression: %s)', async (compression) => {
    const c = await startCliCollector(await tempDir());
    const provider = sdkProvider(new SimpleSpanProcessor(make(c.tracesUrl, compression)));
    recordSampleSpans(provider);
    await provider.shutdown();

    const { records, problems } = await readTrail(c.dir);
    expect(problems).toEqual([]);
    // SimpleSpanProcessor sends each span in its own request, concurrently: any order.
    expect(records.map((r) => r.name).sort()).toEqual(['child', 'parent']);
    const child = records.find((r) => r.name === 'child')!;
    const parent = records.find((r) => r.name === 'parent')!;
    expect(child.attributes).toStrictEqual(sampleAttributes);
    expect(child).toMatchObject({
      resource: { 'service.name': 'sample-service', 'deployment.environment.name': 'test' },
      scope: { name: 'sample-scope', version: '2.0.0' },
      traceId: parent.traceId,
      parentSpanId: parent.spanId,
      kind: 3,
      status: { code: 2, message: 'it failed' },
      events: [{ name: 'something', attributes: { 'event.n': 1 } }],
      links: [{ traceId: parent.traceId, spanId: parent.spanId, attributes: { 'link.attr': 'x' } }],
    });
    expect(parent).toMatchObject({ kind: 2, status: { code: 1 } });
    expect(parent.parentSpanId).toBeUndefined();
    expect(BigInt(child.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(child.startTimeUnixNano));
    expect(BigInt(child.events[0]!.timeUnixNano)).toBeGreaterThanOrEqual(BigInt(child.startTimeUnixNano));
    expect(await stopCli(c)).toEqual({ code: 0, signal: null });
  });
});

describe('a tooltrail auditor', () => {
  it('delivers its execute_tool spans to the collector with their exact attributes', async () => {
    const c = await startCliCollector(await tempDir());
    const warnings: string[] = [];
    const auditor = createAuditor({ serviceName: 'cli-e2e-agent', endpoint: c.url, logger: { warn: (m) => warnings.push(m) } });
    const lookup = auditor.withAudit(async (a: { id: number; verbose: boolean; ratio: number; tags: string[] }) => ({ found: a.id }), {
      name: 'lookup_order',
      description: 'Find an order',
    });
    const failing = auditor.withAudit(
      async () => {
        throw new RangeError('no such order');
      },
      { name: 'cancel_order' },
    );
    await auditor.run(
      { runId: 'run-1', principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' }, attributes: { tier: 'gold', seats: 3, trial: false } },
      async () => {
        await lookup({ id: 7, verbose: true, ratio: 0.5, tags: ['a', 'b'] });
        await expect(failing()).rejects.toThrow('no such order');
      },
    );
    expect(await auditor.shutdown(10_000)).toBe(true);
    // Only export trouble matters here; other layers (masking) may warn about their own setup.
    expect(warnings.filter((w) => /export|drop|lost|collector/i.test(w))).toEqual([]);
    expect(auditor.stats()).toMatchObject({ dropped: 0 });

    const { records, problems } = await readTrail(c.dir);
    expect(problems).toEqual([]);
    const ok = records.find((r) => r.name === 'execute_tool lookup_order')!;
    const err = records.find((r) => r.name === 'execute_tool cancel_order')!;
    const run = records.find((r) => r.name === 'invoke_agent support-bot')!;
    expect(ok.resource['service.name']).toBe('cli-e2e-agent');
    expect(ok.scope.name).toBe('@tooltrail/core');
    expect(ok.parentSpanId).toBe(run.spanId);
    expect(ok.kind).toBe(1);
    expect(ok.status).toEqual({ code: 1 });
    expect(ok.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup_order',
      'gen_ai.tool.description': 'Find an order',
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.arguments': '{"id":7,"verbose":true,"ratio":0.5,"tags":["a","b"]}',
      'gen_ai.tool.call.result': '{"found":7}',
      'tooltrail.outcome': 'ok',
      'tooltrail.arguments.mutated': false,
      'tooltrail.attempts': 1,
      'tooltrail.run.id': 'run-1',
      'user.id': 'user:42',
      'tooltrail.principal.type': 'user',
      'gen_ai.agent.name': 'support-bot',
      'gen_ai.agent.id': 'bot-7',
      'tooltrail.run.attr.tier': 'gold',
      'tooltrail.run.attr.seats': 3,
      'tooltrail.run.attr.trial': false,
    });
    expect(ok.attributes['gen_ai.tool.call.id']).toMatch(/^call_[0-9a-f]{24}$/);
    expect(err.status).toEqual({ code: 2, message: 'no such order' });
    expect(err.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'RangeError', 'user.id': 'user:42' });
    expect(err.events).toEqual([
      expect.objectContaining({ name: 'exception', attributes: expect.objectContaining({ 'exception.type': 'RangeError', 'exception.message': 'no such order' }) }),
    ]);
    expect(await stopCli(c)).toEqual({ code: 0, signal: null });
  });
});
