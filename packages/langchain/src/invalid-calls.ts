import type { InvalidToolCall } from '@langchain/core/messages/tool';
import type { ToolMessage } from '@langchain/core/messages';
import type { RefusedCall } from '@tooltrail/core';
import { auditedStateOf, refusalOutcome, type AuditedToolState } from './audit-tool.js';

/** What is read of an `InvalidToolCall` (`AIMessage.invalid_tool_calls`). */
export type InvalidToolCallLike = Pick<InvalidToolCall, 'id' | 'name' | 'args' | 'error'>;

/** Who refused such a call: LangChain's tool-call parser, before any tool was invoked. */
const PARSER = 'langchain.tool-call-parser';

/** The model's arguments as a value when they parse as JSON, else the raw text it sent. */
function proposalOf(args: string | undefined): unknown {
  if (args === undefined) return undefined;
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return args;
  }
}

/**
 * Records the tool calls LangChain could not parse (`message.invalid_tool_calls`: arguments
 * that are not JSON, say): they never reach a tool, so without this the trail would not show
 * them. Each one naming an audited tool in `tools` becomes an `invalid` record of that tool
 * (no attempt, the raw arguments as proposed), and its refusal comes back as the tool's error
 * `ToolMessage`, ready to send to the model so it can fix the call. Calls naming no audited tool
 * are left out. With `onRefusal: 'throw'` on that tool, LangChain's `ToolInputParsingException`
 * is thrown instead (after the record is written).
 */
export function recordInvalidToolCalls(
  tools: readonly unknown[],
  message: { readonly invalid_tool_calls?: readonly InvalidToolCallLike[] | undefined },
): ToolMessage[] {
  const out: ToolMessage[] = [];
  for (const call of message.invalid_tool_calls ?? []) {
    const tool = tools.find((t) => (t as { name?: unknown } | null)?.name === call.name);
    const state = auditedStateOf(tool);
    if (tool === undefined || state === undefined || call.name === undefined) continue;
    const refusal = state.recordedInvalid.get(call) ?? recordInvalid(state, call);
    const result = refusalOutcome(tool as { name: string }, refusal, state.refusals, call.id, call.args);
    if (typeof result === 'object' && result !== null) out.push(result as ToolMessage);
  }
  return out;
}

/** Records one invalid call, remembered so that the same call object is never recorded twice. */
function recordInvalid(state: AuditedToolState, call: InvalidToolCallLike): RefusedCall {
  const reason = call.error ?? 'the arguments could not be parsed';
  const refusal = state.audited.recordRefused({
    args: proposalOf(call.args),
    ...(call.id !== undefined ? { callId: call.id } : {}),
    reason,
    kind: 'invalid',
    by: PARSER,
    issues: [{ path: [], code: 'invalid_tool_call', message: reason }],
  });
  state.recordedInvalid.set(call, refusal);
  return refusal;
}
