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
 * The approval a call now executing was given, found in the messages the SDK hands `execute`:
 * the `tool-approval-request` for this call id and the `tool-approval-response` that answered it
 * with `approved: true`. The SDK does not say who approved: `by` is `unattributed`.
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
        return { decision: 'approved', by: 'unattributed', source: AI_SDK_APPROVAL_RESPONSE, ...(part.reason !== undefined ? { reason: part.reason } : {}) };
      }
    }
  }
  return undefined;
}
