import type { RunToolApprovalItem } from '@openai/agents';
import type { ApprovalRecord } from '@tooltrail/core';
import { firstRejection, proposalOf, registry, rememberDecision, type ToolRecord } from './call-state.js';
import { checkOptions, optionKeys } from './options.js';

/** `tooltrail.approval.source` of every decision made in the SDK's approval flow. */
export const APPROVAL_SOURCE = 'openai-agents.needsApproval';
/**
 * `tooltrail.approval.by` when nobody was named: `state.approve()` called directly, or the
 * helpers without `approver`. The trail says so rather than guessing who it was.
 */
export const UNATTRIBUTED = 'unattributed';

/** A decision in the SDK's approval flow as core records it (`CallMeta.approval`). */
export function approvalRecord(decision: ApprovalRecord['decision'], made: ApprovalDecision = {}): ApprovalRecord {
  const by = made.approver !== undefined && made.approver.trim() !== '' ? made.approver : UNATTRIBUTED;
  return { decision, by, at: Date.now(), source: APPROVAL_SOURCE, ...(made.reason !== undefined ? { reason: made.reason } : {}) };
}

export interface ApprovalDecision {
  /** Who decided, e.g. `manager:7`. Recorded with the call. */
  approver?: string;
  /** Why. Recorded with the call; the model does not read it (see `message`). */
  reason?: string;
}

export interface ApproveOptions extends ApprovalDecision {
  /**
   * Approve every later call of this tool in this run too (the SDK's `alwaysApprove`). They
   * execute without asking again and are recorded as approved by this decision.
   */
  always?: boolean;
}

export interface RejectOptions extends ApprovalDecision {
  /**
   * The text the model reads as the tool's result (the SDK's rejection `message`). Default: the
   * SDK's own text, or the run's `toolErrorFormatter`.
   */
  message?: string;
}

/** The parts of the SDK's `RunState` the approval helpers use. */
export interface ApprovalState {
  approve(item: RunToolApprovalItem, options?: { alwaysApprove?: boolean }): void;
  reject(item: RunToolApprovalItem, options?: { alwaysReject?: boolean; message?: string }): void;
}

const APPROVE_OPTION_KEYS = optionKeys<ApproveOptions>({ approver: true, reason: true, always: true });
const REJECT_OPTION_KEYS = optionKeys<RejectOptions>({ approver: true, reason: true, message: true });

interface FunctionCall {
  callId: string;
  name: string;
  arguments: string;
}

function functionCallOf(item: RunToolApprovalItem): FunctionCall | undefined {
  const raw = item.rawItem as { type?: unknown; callId?: unknown; name?: unknown; arguments?: unknown };
  if (raw.type !== 'function_call' || typeof raw.callId !== 'string' || typeof raw.name !== 'string') return undefined;
  return { callId: raw.callId, name: raw.name, arguments: typeof raw.arguments === 'string' ? raw.arguments : '' };
}

/**
 * The run's `RunContext`: the object the tool's `invoke` receives on resume. `RunState` keeps it
 * as `_context`; without it (a future SDK) approvals are still recorded, without the approver.
 */
function contextOf(state: ApprovalState): object | undefined {
  const ctx = (state as { _context?: unknown })._context;
  return typeof ctx === 'object' && ctx !== null ? ctx : undefined;
}

function auditedToolOf(item: RunToolApprovalItem, name: string): ToolRecord | undefined {
  const tools = (item.agent as { tools?: unknown } | undefined)?.tools;
  if (!Array.isArray(tools)) return undefined;
  for (const t of tools as unknown[]) {
    const invoke = (t as { invoke?: unknown } | null | undefined)?.invoke;
    const record = typeof invoke === 'function' ? registry.get(invoke) : undefined;
    if (record !== undefined && record.name === name) return record;
  }
  return undefined;
}

/**
 * Approves a call the run stopped for (`result.interruptions`), as `state.approve(item)` does,
 * and remembers who approved it: when the run resumes and the tool executes, its record carries
 * the approval (`tooltrail.approval.decision = approved`, `.by = <approver>`, `.reason`, and a
 * `tooltrail.approval` event with the time of the decision). Approval is not a policy rule:
 * policy still runs on the call.
 */
export function approveToolCall(state: ApprovalState, item: RunToolApprovalItem, options: ApproveOptions = {}): void {
  // Before the approval takes effect: a typo (`aprover`) must not approve without its approver.
  checkOptions('approveToolCall()', options, APPROVE_OPTION_KEYS);
  state.approve(item, options.always === true ? { alwaysApprove: true } : undefined);
  const call = functionCallOf(item);
  const ctx = contextOf(state);
  if (call === undefined || ctx === undefined) return;
  rememberDecision(ctx, call.callId, call.name, approvalRecord('approved', options), options.always === true);
}

/**
 * Rejects a call the run stopped for, as `state.reject(item)` does, and records it now: the SDK
 * never invokes a rejected tool, so this is the only moment it can be. The record is a call
 * that never executed (`recordRefused`): outcome `denied`, `tooltrail.policy.rule =
 * tooltrail.approval`, reason = the approver's reason or `rejected by <approver>`, the approval
 * itself (`tooltrail.approval.*` and its event), no attempt, attributed to the current
 * `auditor.run()`: call it inside the run you resume in.
 *
 * The rejection takes effect first, whatever happens to the record. Resolves to true when the
 * call was recorded (now, or by an earlier rejection of the same call in the same run), false
 * when the tool was not made by `auditOpenAIAgentsTool()`.
 *
 * A standing rejection (`alwaysReject`) is not offered: the SDK would refuse later calls without
 * invoking the tool, and they could not be recorded. Deny them with a policy rule instead.
 */
export async function rejectToolCall(state: ApprovalState, item: RunToolApprovalItem, options: RejectOptions = {}): Promise<boolean> {
  checkOptions('rejectToolCall()', options, REJECT_OPTION_KEYS);
  state.reject(item, options.message !== undefined ? { message: options.message } : undefined);
  const call = functionCallOf(item);
  const record = call === undefined ? undefined : auditedToolOf(item, call.name);
  if (call === undefined || record === undefined) return false;
  // Already recorded: the same rejection again is not a second refused call.
  if (!firstRejection(contextOf(state) ?? item, call.callId)) return true;
  const approval = approvalRecord('rejected', options);
  record.audited.recordRefused({
    args: proposalOf(call.arguments),
    callId: call.callId,
    reason: approval.reason ?? `rejected by ${approval.by}`,
    kind: 'denied',
    by: approval.by,
    approval,
  });
  return true;
}
