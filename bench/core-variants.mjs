// The variants of the core suite, each a call plus the flush that waits until its exporter has
// delivered everything: built here so the timing run and the allocation probe measure the same.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { handWrittenSpan } from './lib.mjs';

export const args = {
  to: 'bob@example.com',
  subject: 'Your ticket #4521',
  body: 'Hello Bob, your refund was processed on 2026-11-20. The amount of 42.50 EUR will show on your statement within 3 days. '.repeat(7),
  ticket: { id: 'T-4521', tags: ['refund', 'billing'], priority: 2 },
};
export const tool = async (a) => ({ queued: true, to: a.to, size: a.body.length });
export const identity = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' }, conversationId: 'conv-1' };

const withArgs = (fn) => () => fn(args);

function otelProvider(url, wrap) {
  const exporter = new OTLPTraceExporter({ url });
  const processor = wrap ? wrap(exporter) : new BatchSpanProcessor(exporter);
  return new BasicTracerProvider({ spanProcessors: [processor] });
}

/** `core` is the @tooltrail/core module (today's build or an older one for the allocation probe). */
export const variants = {
  bare: async () => ({ call: () => tool(args), flush: async () => undefined, close: async () => undefined }),
  hand: async (url) => {
    const provider = otelProvider(url);
    return { call: withArgs(handWrittenSpan(provider.getTracer('hand'), tool)), flush: () => provider.forceFlush(), close: () => provider.shutdown() };
  },
  defaults: async (url, core) => {
    const auditor = core.createAuditor({
      serviceName: 'bench',
      endpoint: url.replace(/\/v1\/traces$/, ''),
      spoolDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tooltrail-bench-core-spool-')),
      runSpans: false,
      masking: { hashKey: 'bench-mask-key-0123456789abcdef' },
      logger: { warn() {} },
    });
    core.setDefaultAuditor(undefined);
    const audited = auditor.withAudit(tool, { name: 'send_email' });
    // The measurement runs inside `run` (one run, as in an agent), so every variant pays for
    // AsyncLocalStorage alike.
    return { call: withArgs(audited), flush: () => auditor.flush(), close: () => auditor.shutdown(), run: (fn) => auditor.run(identity, fn) };
  },
  openinference: async (url) => {
    const { traceTool } = await import('@arizeai/openinference-core');
    const provider = otelProvider(url);
    return { call: withArgs(traceTool(tool, { name: 'send_email', tracer: provider.getTracer('openinference') })), flush: () => provider.forceFlush(), close: () => provider.shutdown() };
  },
  langfuse: async (url) => {
    const { observe, setLangfuseTracerProvider } = await import('@langfuse/tracing');
    const { LangfuseSpanProcessor } = await import('@langfuse/otel');
    // Its processor as its docs set it up, with the exporter pointed at our collector.
    const provider = otelProvider(url, (exporter) => new LangfuseSpanProcessor({ exporter, mediaUploadEnabled: false }));
    setLangfuseTracerProvider(provider);
    return { call: withArgs(observe(tool, { name: 'send_email', asType: 'tool' })), flush: () => provider.forceFlush(), close: () => provider.shutdown() };
  },
};
