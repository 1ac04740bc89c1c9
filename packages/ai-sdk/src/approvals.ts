import type { ApprovalRecord } from '@tooltrail/core';

/** `source` of a decision the app answered with a `tool-approval-response` message. */
export const AI_SDK_APPROVAL_RESPONSE = 'ai-sdk.tool-approval-response';

interface PartLike {
  readonly type: string;
  readonly toolCallId?: string;
  readonly approvalId?: string;
  readonly approved?: boolean;
  readonly reason?: string;
}

/**
 * Who answered an approval request, by approval id, as the app told `recordApprovalResponses`:
 * the SDK's response carries no approver. Per process (both builds share it), bounded: an id
 * is consumed when its call executes, and the oldest are dropped past the bound.
 */
const APPROVERS_KEY = Symbol.for('tooltrail.ai-sdk.approvers.v1');
type GlobalWithApprovers = typeof globalThis & { [APPROVERS_KEY]?: Map<string, string> };
const approvers = ((globalThis as GlobalWithApprovers)[APPROVERS_KEY] ??= new Map());
const MAX_APPROVERS = 10_000;

/** Remembers who approved `approvalId`, for the record of the call when it executes. */
export function rememberApprover(approvalId: string, by: string): void {
  approvers.delete(approvalId);
  approvers.set(approvalId, by);
  if (approvers.size > MAX_APPROVERS) approvers.delete(approvers.keys().next().value as string);
}

/**
 * The approval a call now executing was given, found in the messages the SDK hands `execute`:
 * the `tool-approval-request` for this call id and the `tool-approval-response` that answered it
 * with `approved: true`. The SDK does not say who approved: `by` is who the app named in
 * `recordApprovalResponses`, else `unattributed`.
 */
export function approvalOf(options: { readonly toolCallId?: string; readonly messages?: ReadonlyArray<{ readonly content: unknown }> } | undefined): ApprovalRecord | undefined {
  const callId = options?.toolCallId;
  if (callId === undefined || !Array.isArray(options?.messages)) return undefined;
  let approvalId: string | undefined;
  for (const message of options.messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content as PartLike[]) {
      if (part.type === 'tool-approval-request' && part.toolCallId === callId) approvalId = part.approvalId;
      else if (part.type === 'tool-approval-response' && approvalId !== undefined && part.approvalId === approvalId && part.approved === true) {
        const by = approvers.get(approvalId) ?? 'unattributed';
        approvers.delete(approvalId);
        return { decision: 'approved', by, source: AI_SDK_APPROVAL_RESPONSE, ...(part.reason !== undefined ? { reason: part.reason } : {}) };
      }
    }
  }
  return undefined;
}
