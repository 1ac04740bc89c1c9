import type { ApprovalRecord, RefusedCall } from '@tooltrail/core';
import { AI_SDK_APPROVAL_RESPONSE, rememberApprover } from './approvals.js';
import { auditedToolsOf, type AuditedRecordState } from './audited-record.js';

interface ToolCallLike {
  readonly toolCallId: string;
  readonly toolName: string;
  readonly input: unknown;
}

/** What is read of a content part, in a step or in a message. */
interface PartLike {
  readonly type: string;
  readonly toolCallId?: string;
  readonly toolName?: string;
  readonly input?: unknown;
  readonly invalid?: boolean;
  readonly error?: unknown;
  readonly approvalId?: string;
  readonly approved?: boolean;
  readonly reason?: string;
  readonly toolCall?: ToolCallLike;
}

/** `tooltrail.refused.by` of input the SDK's parser refused. */
export const AI_SDK_PARSER = 'ai-sdk.parseToolCall';
/** `by` and `source` of a call the SDK's `toolApproval` option denied by itself. */
export const AI_SDK_APPROVAL = 'ai-sdk.toolApproval';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function recordDenial(state: AuditedRecordState, approvalId: string | undefined, call: ToolCallLike, reason: string | undefined, by: string, source: string): RefusedCall | undefined {
  const record = state.tools.get(call.toolName);
  if (record === undefined) return undefined;
  if (approvalId !== undefined) {
    if (state.recordedApprovals.has(approvalId)) return undefined;
    state.recordedApprovals.add(approvalId);
  }
  const approval: ApprovalRecord = { decision: 'rejected', by, source, ...(reason !== undefined ? { reason } : {}) };
  return record({ args: call.input, callId: call.toolCallId, reason: reason ?? `rejected by ${by}`, kind: 'denied', by, approval });
}

/**
 * Records the tool calls of a step that the SDK refused before any `execute` ran, which the
 * audited tools never see: input the SDK's schema rejected (with `validation: 'sdk'`, or input
 * that is not JSON) is an `invalid` call; a call the `toolApproval` option denied is a `denied`
 * call carrying the approval. Calls of tools that are not in `tools` (the SDK's NoSuchToolError
 * among them) are left out: there is no audited tool to record them under. Use it as the step
 * callback, inside `auditor.run()`: `onStepFinish: (step) => recordRefusedToolCalls(tools, step)`.
 * Returns the refusals recorded.
 */
export function recordRefusedToolCalls(tools: object, step: { readonly content: ReadonlyArray<PartLike> }): RefusedCall[] {
  const state = auditedToolsOf(tools);
  if (state === undefined) return [];
  const invalidCalls = new Set(step.content.filter((p) => p.type === 'tool-call' && p.invalid === true).map((p) => p.toolCallId));
  const out: RefusedCall[] = [];
  for (const part of step.content) {
    if (state.recordedParts.has(part)) continue;
    if (part.type === 'tool-error' && invalidCalls.has(part.toolCallId)) {
      const record = part.toolName === undefined ? undefined : state.tools.get(part.toolName);
      if (record === undefined) continue;
      const reason = messageOf(part.error);
      state.recordedParts.add(part);
      out.push(record({ args: part.input, callId: part.toolCallId, reason, kind: 'invalid', by: AI_SDK_PARSER, issues: [{ path: [], code: 'invalid_tool_input', message: reason }] }));
    } else if (part.type === 'tool-approval-response' && part.approved === false && part.toolCall !== undefined) {
      const refused = recordDenial(state, part.approvalId, part.toolCall, part.reason, AI_SDK_APPROVAL, AI_SDK_APPROVAL);
      if (refused !== undefined) {
        state.recordedParts.add(part);
        out.push(refused);
      }
    }
  }
  return out;
}

/**
 * The app's answers to approval requests, as it sends them back in `messages`: a denied one
 * (`approved: false`) is recorded now as a denied call (see `recordDeniedApprovals`); an
 * approved one is remembered with its approver (`by`), so the call's record names who approved
 * it when the SDK executes it on this turn. Call it inside `auditor.run()` with the messages you
 * pass to the SDK. Returns the denials recorded.
 */
export function recordApprovalResponses(
  tools: object,
  messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>,
  options: { by?: string } = {},
): RefusedCall[] {
  const by = options.by;
  if (by !== undefined && by.trim() !== '' && auditedToolsOf(tools) !== undefined) {
    for (const message of messages) {
      if (!Array.isArray(message.content)) continue;
      for (const part of message.content as PartLike[]) {
        if (part.type === 'tool-approval-response' && part.approved === true && part.approvalId !== undefined) rememberApprover(part.approvalId, by);
      }
    }
  }
  return recordDeniedApprovals(tools, messages, options);
}

/**
 * Records the approvals a person denied: the `tool-approval-response` parts with
 * `approved: false` in `messages` (what the app sends back after a `tool-approval-request`).
 * The SDK never runs those calls and puts no trace of them in the next step, so this is where
 * they can be recorded: a `denied` call of the tool, with the approval (`by`: who answered,
 * default `unattributed`). Call it inside `auditor.run()` with the messages you pass to the
 * SDK; an approval already recorded through the same tools record is not recorded again.
 */
export function recordDeniedApprovals(
  tools: object,
  messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>,
  options: { by?: string } = {},
): RefusedCall[] {
  const state = auditedToolsOf(tools);
  if (state === undefined) return [];
  // In messages a request names its call by id; the call itself is the assistant's tool-call part.
  const calls = new Map<string, ToolCallLike>();
  const requested = new Map<string, string>();
  const out: RefusedCall[] = [];
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content as PartLike[]) {
      if (part.type === 'tool-call' && part.toolCallId !== undefined && part.toolName !== undefined) {
        calls.set(part.toolCallId, { toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
      }
      if (part.type === 'tool-approval-request' && part.approvalId !== undefined && part.toolCallId !== undefined) requested.set(part.approvalId, part.toolCallId);
      if (part.type !== 'tool-approval-response' || part.approved !== false || part.approvalId === undefined) continue;
      const callId = requested.get(part.approvalId);
      const call = callId === undefined ? undefined : calls.get(callId);
      const refused = call && recordDenial(state, part.approvalId, call, part.reason, options.by ?? 'unattributed', AI_SDK_APPROVAL_RESPONSE);
      if (refused !== undefined) out.push(refused);
    }
  }
  return out;
}
