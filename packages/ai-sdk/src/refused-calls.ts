import type { ApprovalRecord, RefusedCall } from '@tooltrail/core';
import { auditedToolsOf } from './audited-record.js';

/** What is read of a step's content parts. */
interface PartLike {
  readonly type: string;
  readonly toolCallId?: string;
  readonly toolName?: string;
  readonly input?: unknown;
  readonly invalid?: boolean;
  readonly error?: unknown;
  readonly approved?: boolean;
  readonly reason?: string;
  readonly toolCall?: { readonly toolCallId: string; readonly toolName: string; readonly input: unknown };
}

/** `tooltrail.refused.by` / `tooltrail.approval.source` of the refusals found here. */
export const AI_SDK_PARSER = 'ai-sdk.parseToolCall';
export const AI_SDK_APPROVAL = 'ai-sdk.toolApproval';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Records the tool calls of a step that the SDK refused before any `execute` ran, which the
 * audited tools never see: input the SDK's schema rejected (with `validation: 'sdk'`, or input
 * that is not JSON) is an `invalid` call; a call whose approval was denied (`needsApproval` or
 * `toolApproval` answered `approved: false`) is a `denied` call carrying the approval. Calls of
 * tools that are not in `tools` (the SDK's NoSuchToolError among them) are left out: there is
 * no audited tool to record them under. Use it as the step callback, inside `auditor.run()`:
 * `onStepFinish: (step) => recordRefusedToolCalls(tools, step)`. Returns the refusals recorded.
 */
export function recordRefusedToolCalls(tools: object, step: { readonly content: ReadonlyArray<PartLike> }): RefusedCall[] {
  const audited = auditedToolsOf(tools);
  if (audited === undefined) return [];
  const invalidCalls = new Set(step.content.filter((p) => p.type === 'tool-call' && p.invalid === true).map((p) => p.toolCallId));
  const out: RefusedCall[] = [];
  for (const part of step.content) {
    if (part.type === 'tool-error' && invalidCalls.has(part.toolCallId)) {
      const record = part.toolName === undefined ? undefined : audited.get(part.toolName);
      if (record === undefined) continue;
      const reason = messageOf(part.error);
      out.push(record({ args: part.input, callId: part.toolCallId, reason, kind: 'invalid', by: AI_SDK_PARSER, issues: [{ path: [], code: 'invalid_tool_input', message: reason }] }));
    } else if (part.type === 'tool-approval-response' && part.approved === false && part.toolCall !== undefined) {
      const record = audited.get(part.toolCall.toolName);
      if (record === undefined) continue;
      const approval: ApprovalRecord = { decision: 'rejected', by: AI_SDK_APPROVAL, source: AI_SDK_APPROVAL, ...(part.reason !== undefined ? { reason: part.reason } : {}) };
      out.push(record({ args: part.toolCall.input, callId: part.toolCall.toolCallId, reason: part.reason ?? 'the tool call was not approved', kind: 'denied', by: AI_SDK_APPROVAL, approval }));
    }
  }
  return out;
}
