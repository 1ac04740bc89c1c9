import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditor, setDefaultAuditor, type Auditor, type AuditorOptions } from '@tooltrail/core';
import { MockLanguageModelV4, convertArrayToReadableStream } from 'ai/test';

export interface Harness {
  auditor: Auditor;
  /** Flushes and returns every finished audit span. */
  spans(): Promise<ReadableSpan[]>;
  /** Flushes and returns the execute_tool spans, by call id. */
  calls(): Promise<Map<string, ReadableSpan>>;
}

export function harness(options: Partial<AuditorOptions> = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const auditor = createAuditor({
    serviceName: 'ai-sdk-test',
    exporter,
    // Exact comparisons of recorded arguments; masking has its own tests in core.
    masking: false,
    logger: { warn: () => {} },
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
    spans,
    calls: async () => {
      const calls = (await spans()).filter((s) => s.name.startsWith('execute_tool '));
      return new Map(calls.map((s) => [String(s.attributes['gen_ai.tool.call.id']), s]));
    },
  };
}

export const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'shop-bot', id: 'bot-1' }, conversationId: 'conv-9' };

export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

type GenerateResult = Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>;
type StreamResult = Awaited<ReturnType<MockLanguageModelV4['doStream']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

/** One tool call the scripted model makes; an `input` string is sent as is (raw model text). */
export interface ScriptedCall {
  id: string;
  tool: string;
  input: unknown;
}
/** A step: the tool calls the model makes, or its final text. */
export type ScriptedStep = ScriptedCall[] | string;

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};
const rawInput = (c: ScriptedCall) => (typeof c.input === 'string' ? c.input : JSON.stringify(c.input));

/** The SDK's own mock model, answering each model call with the next scripted step (generate or stream). */
export function scriptedModel(steps: ScriptedStep[]): MockLanguageModelV4 {
  const model: MockLanguageModelV4 = new MockLanguageModelV4({
    doGenerate: async (): Promise<GenerateResult> => {
      const step = steps[model.doGenerateCalls.length - 1] ?? 'out of script';
      if (typeof step === 'string') {
        return { content: [{ type: 'text', text: step }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
      }
      return {
        content: step.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.tool, input: rawInput(c) })),
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    },
    doStream: async (): Promise<StreamResult> => {
      const step = steps[model.doStreamCalls.length - 1] ?? 'out of script';
      const parts: StreamPart[] = [{ type: 'stream-start', warnings: [] }];
      if (typeof step === 'string') {
        parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: step }, { type: 'text-end', id: 't' });
        parts.push({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage });
      } else {
        for (const c of step) parts.push({ type: 'tool-call', toolCallId: c.id, toolName: c.tool, input: rawInput(c) });
        parts.push({ type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage });
      }
      return { stream: convertArrayToReadableStream(parts) };
    },
  });
  return model;
}

/** The tool results the model was sent in its `n`-th call (0-based), by tool call id. */
export function toolResultsSeen(model: MockLanguageModelV4, n: number, kind: 'generate' | 'stream' = 'generate'): Map<string, unknown> {
  const call = (kind === 'generate' ? model.doGenerateCalls : model.doStreamCalls)[n];
  const out = new Map<string, unknown>();
  for (const message of call?.prompt ?? []) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) if (part.type === 'tool-result') out.set(part.toolCallId, part.output);
  }
  return out;
}
