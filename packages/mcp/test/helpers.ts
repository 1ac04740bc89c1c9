import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditor, type Auditor, type AuditorOptions, type CallMeta } from '@tooltrail/core';

export interface Harness {
  auditor: Auditor;
  /** Flushes and returns every finished span. */
  spans(): Promise<ReadableSpan[]>;
  /** Flushes and returns the execute_tool spans. */
  calls(): Promise<ReadableSpan[]>;
}

export function harness(options: Partial<AuditorOptions> = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const auditor = createAuditor({
    serviceName: 'mcp-test',
    exporter,
    logger: { warn: () => undefined },
    exportQueue: { flushIntervalMs: 1 },
    ...options,
  });
  const spans = async (): Promise<ReadableSpan[]> => {
    if (!(await auditor.flush(5_000))) throw new Error('flush did not complete');
    return exporter.getFinishedSpans();
  };
  return { auditor, spans, calls: async () => (await spans()).filter((s) => s.name.startsWith('execute_tool ')) };
}

export const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'ops-bot', id: 'bot-1' } };

export function attemptsOf(spans: readonly ReadableSpan[], call: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => s.name.startsWith('tool_attempt ') && s.parentSpanContext?.spanId === call.spanContext().spanId);
}

/** The W3C traceparent of a span, as core hands it to the tool body. */
export function traceparentOf(span: ReadableSpan): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-0${c.traceFlags.toString(16)}`;
}

/**
 * Whether this build of core records `CallMeta.attributes` on the call span: the core extension
 * this adapter proposes. Until core has it, the tests of the `mcp.*` attributes are skipped.
 */
export async function coreRecordsCallAttributes(): Promise<boolean> {
  const h = harness({ requireIdentity: false });
  const probe = h.auditor.withAudit((x: number) => x, { name: 'probe' });
  const meta: CallMeta & { attributes: Record<string, string> } = { callId: 'probe-1', attributes: { 'probe.attribute': 'yes' } };
  await probe.invokeWith(meta, 1);
  const [span] = await h.calls();
  await h.auditor.shutdown();
  return span?.attributes['probe.attribute'] === 'yes';
}
