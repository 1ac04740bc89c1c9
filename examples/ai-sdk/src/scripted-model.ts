import { MockLanguageModelV4 } from 'ai/test';

/**
 * Stands in for an LLM (no network, no model): the AI SDK's own mock model, answering each step
 * with the next scripted tool calls, the way a model handling "refund my order ord-7" might.
 */
const script: ({ tool: string; input: Record<string, unknown> } | string)[] = [
  { tool: 'lookup_order', input: { orderId: ' ord-7 ' } },
  // The amount comes as a string, as models often write it; the schema coerces it, policy denies it.
  { tool: 'issue_refund', input: { orderId: 'ORD-7', amount: '250' } },
  // Told that 250 is too much, the model fumbles a negative amount: the schema rejects it.
  { tool: 'issue_refund', input: { orderId: 'ORD-7', amount: -150 } },
  { tool: 'issue_refund', input: { orderId: 'ORD-7', amount: 100 } },
  'I refunded 100 of your 250 now; a colleague has to approve the remaining 150.',
];

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 10, text: 10, reasoning: undefined },
};

export function scriptedModel(): MockLanguageModelV4 {
  const model: MockLanguageModelV4 = new MockLanguageModelV4({
    modelId: 'scripted-shop-model',
    doGenerate: async () => {
      const step = model.doGenerateCalls.length - 1;
      const next = script[step] ?? 'Done.';
      if (typeof next === 'string') {
        return { content: [{ type: 'text', text: next }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
      }
      return {
        content: [{ type: 'tool-call', toolCallId: `call_${step + 1}`, toolName: next.tool, input: JSON.stringify(next.input) }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    },
  });
  return model;
}
