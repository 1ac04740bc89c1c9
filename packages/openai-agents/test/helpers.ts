import { setTracingDisabled } from '@openai/agents';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditor, setDefaultAuditor, type Auditor, type AuditorOptions } from '@tooltrail/core';

// Offline: the SDK's own trace exporter would try to reach api.openai.com.
setTracingDisabled(true);

export interface Harness {
  auditor: Auditor;
  warnings: string[];
  /** Flushes and returns every finished span. */
  spans(): Promise<ReadableSpan[]>;
  /** Flushes and returns the execute_tool spans, by call id. */
  calls(): Promise<Map<string, ReadableSpan>>;
}

export function harness(options: Partial<AuditorOptions> = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const warnings: string[] = [];
  const auditor = createAuditor({
    serviceName: 'openai-agents-test',
    exporter,
    logger: { warn: (m) => warnings.push(m) },
    exportQueue: { flushIntervalMs: 1 },
    ...options,
  });
  setDefaultAuditor(undefined);
  const spans = async () => {
    if (!(await auditor.flush(5_000))) throw new Error('flush did not complete');
    return exporter.getFinishedSpans();
  };
  return {
    auditor,
    warnings,
    spans,
    calls: async () => {
      const byId = new Map<string, ReadableSpan>();
      for (const s of await spans()) {
        if (s.name.startsWith('execute_tool ')) byId.set(String(s.attributes['gen_ai.tool.call.id']), s);
      }
      return byId;
    },
  };
}

export function attemptsOf(spans: readonly ReadableSpan[], call: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => s.name.startsWith('tool_attempt ') && s.parentSpanContext?.spanId === call.spanContext().spanId);
}

/** The text the model read as the result of each tool call, by call id, from a recorded request. */
export function toolResults(input: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(input)) return out;
  for (const item of input as Array<{ type?: string; callId?: string; output?: unknown }>) {
    if (item.type !== 'function_call_result' || item.callId === undefined) continue;
    const o = item.output as { type?: string; text?: string } | string;
    out[item.callId] = typeof o === 'string' ? o : String(o.text);
  }
  return out;
}

export const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' } };
