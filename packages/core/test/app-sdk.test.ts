import { context, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentCall } from '../src/index.js';
import { alice, harness } from './helpers.js';

describe('beside an app that runs its own NodeSDK', () => {
  const appExporter = new InMemorySpanExporter();
  // The app samples nothing: audit spans must still be recorded.
  const sdk = new NodeSDK({
    serviceName: 'the-app',
    sampler: new AlwaysOffSampler(),
    spanProcessors: [new SimpleSpanProcessor(appExporter)],
    instrumentations: [],
  });
  beforeAll(() => sdk.start());
  afterAll(() => sdk.shutdown());

  it('nests audit spans under the app active span, always sampled, and keeps them out of the app exporter', async () => {
    const h = harness();
    const appTracer = trace.getTracer('app');
    let innerParent: string | undefined;
    const tool = h.auditor.withAudit(
      async () => {
        // The attempt span is active in the app's context inside the body.
        innerParent = trace.getSpan(context.active())?.spanContext().spanId;
        return currentCall()?.spanId;
      },
      { name: 'lookup' },
    );
    const appSpan = appTracer.startSpan('handle request');
    const attemptId = await context.with(trace.setSpan(context.active(), appSpan), () => h.auditor.run(alice, () => tool()));
    appSpan.end();
    const spans = await h.spans();
    const runSpan = spans.find((s) => s.name === 'invoke_agent support-bot')!;
    const toolSpan = spans.find((s) => s.name === 'execute_tool lookup')!;
    expect(runSpan.spanContext().traceId).toBe(appSpan.spanContext().traceId);
    expect(runSpan.parentSpanContext?.spanId).toBe(appSpan.spanContext().spanId);
    expect(toolSpan.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);
    expect(toolSpan.spanContext().traceFlags & 1).toBe(1);
    expect(innerParent).toBe(attemptId);
    expect(appExporter.getFinishedSpans()).toHaveLength(0);
  });
});
