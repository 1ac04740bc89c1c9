import { BaseChatModel, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAuditor, setDefaultAuditor, type Auditor, type AuditorOptions } from '@tooltrail/core';

export interface Harness {
  auditor: Auditor;
  /** Flushes and returns every finished span. */
  spans(): Promise<ReadableSpan[]>;
  /** Flushes and returns the execute_tool spans only. */
  toolSpans(): Promise<ReadableSpan[]>;
}

export function harness(options: Partial<AuditorOptions> = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const auditor = createAuditor({
    serviceName: 'langchain-test',
    exporter,
    logger: { warn: () => undefined },
    exportQueue: { flushIntervalMs: 1 },
    // Exact argument comparisons below; masking has its own test.
    masking: false,
    ...options,
  });
  setDefaultAuditor(undefined);
  const spans = async () => {
    if (!(await auditor.flush(5_000))) throw new Error('flush did not complete');
    return exporter.getFinishedSpans();
  };
  return { auditor, spans, toolSpans: async () => (await spans()).filter((s) => s.name.startsWith('execute_tool ')) };
}

export const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'travel-bot', id: 'bot-1' }, conversationId: 'conv-9' };

/**
 * A chat model that answers from a script, as a real tool-calling model would: `bindTools`
 * converts the tools to OpenAI tool definitions (reading name, description and schema) and the
 * script sees the whole conversation, tool results included. No network, no LLM.
 */
export class ScriptedChatModel extends BaseChatModel {
  /** The tool definitions the model was bound to, as a provider would receive them. */
  boundTools: ReturnType<typeof convertToOpenAITool>[] = [];
  /** Every conversation the model was called with. */
  readonly seen: BaseMessage[][] = [];

  constructor(private readonly script: (messages: BaseMessage[], turn: number) => AIMessage) {
    super({});
  }

  _llmType(): string {
    return 'scripted';
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.seen.push([...messages]);
    const message = this.script(messages, this.seen.length);
    return { generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }] };
  }

  override bindTools(tools: BindToolsInput[]) {
    this.boundTools = tools.map((t) => convertToOpenAITool(t));
    return this.withConfig({});
  }
}

/**
 * The classic tool-calling loop built from @langchain/core primitives only: model → tools
 * invoked with each ToolCall (each returns a ToolMessage) → model, until no tool calls.
 */
export async function runAgentLoop(
  model: BaseChatModel,
  tools: readonly StructuredToolInterface[],
  input: string,
  config: RunnableConfig = {},
): Promise<BaseMessage[]> {
  const bound = model.bindTools!([...tools]);
  const byName = new Map(tools.map((t) => [t.name, t]));
  const messages: BaseMessage[] = [new HumanMessage(input)];
  for (let turn = 0; turn < 10; turn++) {
    const ai = (await bound.invoke(messages, config)) as AIMessage;
    messages.push(ai);
    const calls = ai.tool_calls ?? [];
    if (calls.length === 0) return messages;
    const results = await Promise.all(
      calls.map((tc) => {
        const t = byName.get(tc.name);
        if (!t) throw new Error(`model called unknown tool ${tc.name}`);
        return t.invoke({ ...tc, type: 'tool_call' as const }, config) as Promise<BaseMessage>;
      }),
    );
    messages.push(...results);
  }
  throw new Error('agent loop did not finish');
}

export function attr(span: ReadableSpan | undefined, key: string): unknown {
  return span?.attributes[key];
}
