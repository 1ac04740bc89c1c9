import type { Attributes } from '@opentelemetry/api';
import { AuditConfigError } from '../contract/errors.js';
import { checkKeys } from '../contract/option-keys.js';
import type { RunIdentity } from '../identity/run-context.js';
import * as sc from '../contract/semconv.js';

/** What an approval handler is asked: the call a rule asked about, and why. */
export interface ApprovalRequest {
  readonly tool: string;
  readonly callId: string;
  /** The real arguments that will run if approved (after validation and rewrites), unmasked. */
  readonly args: unknown;
  /** The same arguments as the trail records them: masked JSON, safe to show or forward. */
  readonly argsMasked: string;
  /** The rule that asked. */
  readonly rule: string | undefined;
  readonly reason: string | undefined;
  readonly run: RunIdentity | undefined;
  /** The policy file in force, when one is configured. */
  readonly policy?: { readonly id: string; readonly version: string } | undefined;
  /** Aborted when the deadline passes (or the auditor shuts down): the answer is then ignored. */
  readonly signal: AbortSignal;
}

/** A person's answer (or an approval service's), recorded as the call's approval. */
export interface ApprovalAnswer {
  decision: 'approved' | 'rejected';
  /** Who decided: `user:alice`, an approver id. Required, non-empty. */
  by: string;
  reason?: string;
  /** When; default the time the answer arrived. */
  at?: Date | number;
}

export type ApprovalHandler = (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;

/** `createAuditor({ approval })`. */
export interface ApprovalOptions {
  /**
   * Answers an `ask` in-process. Optional: an app whose framework has its own approval flow
   * (OpenAI Agents interruptions, AI SDK tool approval) may give only `timeoutMs`; an `ask` with
   * neither a handler nor a framework flow is denied.
   */
  handler?: ApprovalHandler;
  /** How long a call waits for an answer before it is denied. Default 300 000 ms (5 minutes). */
  timeoutMs?: number;
}

/** `auditor.recordPendingApproval(tool, input)`: a call a framework holds for approval and resumes later. */
export interface PendingApprovalInput {
  /** The framework's call id; the resumed call (`invokeWith({ callId, approval })`) carries the same. */
  callId: string;
  /** The proposed arguments (masked like any payload). */
  args?: unknown;
  /** The rule that asked (from `previewDecision`). */
  rule?: string;
  reason?: string;
  /** An adapter's attributes, filtered like CallMeta.attributes. */
  attributes?: Attributes;
}

/** What `AuditedFunction.previewDecision()` answers: the decision a call would get, nothing run or recorded. */
export interface PreviewDecision {
  kind: 'allow' | 'deny' | 'ask' | 'rewrite';
  rule?: string;
  reason?: string;
}

const ANSWER_KEYS: readonly string[] = ['decision', 'by', 'reason', 'at'];
const PENDING_KEYS: readonly string[] = ['callId', 'args', 'rule', 'reason', 'attributes'];

/** Problems of a handler's answer; an answer that names nobody is no approval (the call is denied). */
export function answerProblems(value: unknown): string[] {
  const issues: string[] = [];
  if (typeof value !== 'object' || value === null) return ['the answer must be an object { decision, by, reason?, at? }'];
  checkKeys(value, ANSWER_KEYS, '', issues);
  const a = value as Partial<Record<keyof ApprovalAnswer, unknown>>;
  if (a.decision !== sc.APPROVAL_APPROVED && a.decision !== sc.APPROVAL_REJECTED) issues.push("decision must be 'approved' or 'rejected'");
  if (typeof a.by !== 'string' || a.by.trim() === '') issues.push('by must be a non-empty string (who decided)');
  if (a.reason !== undefined && typeof a.reason !== 'string') issues.push('reason must be a string');
  if (a.at !== undefined && !((a.at instanceof Date || typeof a.at === 'number') && Number.isFinite(new Date(a.at).getTime()))) {
    issues.push('at must be a Date or epoch milliseconds');
  }
  return issues;
}

/** A malformed pending report is the adapter's bug: an error at once, nothing recorded. */
export function checkPendingInput(tool: unknown, input: unknown): asserts input is PendingApprovalInput {
  const issues: string[] = [];
  if (typeof tool !== 'string' || tool.trim() === '') issues.push('tool must be a non-empty string (the tool name)');
  if (typeof input !== 'object' || input === null) issues.push('recordPendingApproval() needs an object { callId, args?, rule?, reason?, attributes? }');
  else {
    checkKeys(input, PENDING_KEYS, '', issues);
    const r = input as Partial<Record<keyof PendingApprovalInput, unknown>>;
    if (typeof r.callId !== 'string' || r.callId === '') issues.push('callId must be a non-empty string (the resumed call links to it)');
    if (r.rule !== undefined && typeof r.rule !== 'string') issues.push('rule must be a string');
    if (r.reason !== undefined && typeof r.reason !== 'string') issues.push('reason must be a string');
    if (r.attributes !== undefined && (typeof r.attributes !== 'object' || r.attributes === null)) issues.push('attributes must be an object');
  }
  if (issues.length > 0) throw new AuditConfigError(`invalid recordPendingApproval() input for tool "${String(tool)}"; nothing was recorded`, issues);
}
