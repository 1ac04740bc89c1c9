import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditor, setDefaultAuditor, type Auditor, type AuditorOptions } from '../src/index.js';

export interface Harness {
  auditor: Auditor;
  exporter: InMemorySpanExporter;
  warnings: string[];
  /** Flushes and returns every finished span. */
  spans(): Promise<ReadableSpan[]>;
  /** Flushes and returns the execute_tool spans only. */
  toolSpans(): Promise<ReadableSpan[]>;
}

export function harness(options: Partial<AuditorOptions> = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const warnings: string[] = [];
  const auditor = createAuditor({
    serviceName: 'test-agent',
    exporter,
    logger: { warn: (m) => warnings.push(m) },
    exportQueue: { flushIntervalMs: 1 },
    ...options,
  });
  // Tests that exercise the default auditor set it themselves.
  setDefaultAuditor(undefined);
  const spans = async () => {
    const ok = await auditor.flush(5_000);
    if (!ok) throw new Error('flush did not complete');
    return exporter.getFinishedSpans();
  };
  return {
    auditor,
    exporter,
    warnings,
    spans,
    toolSpans: async () => (await spans()).filter((s) => s.name.startsWith('execute_tool ')),
  };
}

export const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' }, conversationId: 'conv-1' };

export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
