import type { Attributes } from '@opentelemetry/api';
import { checkKeys } from '../contract/option-keys.js';
import * as sc from '../contract/semconv.js';
import { isArgumentsHash } from './args-binding.js';

/** A person's (or a framework approval step's) decision on a call, recorded on its span. */
export interface ApprovalRecord {
  decision: 'approved' | 'rejected';
  /** Who decided: `user:alice`, `policy-bot`, the framework's approver id. Required, non-empty. */
  by: string;
  /** When; default now. */
  at?: Date | number;
  reason?: string;
  /** Where the decision came from: `openai-agents.needsApproval`, `mcp.elicitation`, ... */
  source?: string;
  /**
   * The hash of the arguments the approval was asked for (`tooltrail.approval.args_hash` of the
   * pending record: args-binding.ts, keyed with the masking key), for a framework that resumes the call in
   * another process: other arguments are denied. Not recorded as given; the check is.
   */
  argsHash?: string;
}

const APPROVAL_KEYS: readonly string[] = ['decision', 'by', 'at', 'reason', 'source', 'argsHash'];

/**
 * Problems of an approval given by an adapter. An approval is evidence in the trail, so one
 * that names nobody, or a time that is not one, is refused rather than recorded half-true.
 */
export function checkApproval(value: unknown, prefix: string, issues: string[]): void {
  if (typeof value !== 'object' || value === null) {
    issues.push(`${prefix} must be an object { decision, by, at?, reason?, source?, argsHash? }`);
    return;
  }
  checkKeys(value, APPROVAL_KEYS, `${prefix}.`, issues);
  const a = value as Partial<Record<keyof ApprovalRecord, unknown>>;
  if (a.decision !== sc.APPROVAL_APPROVED && a.decision !== sc.APPROVAL_REJECTED) issues.push(`${prefix}.decision must be 'approved' or 'rejected'`);
  if (typeof a.by !== 'string' || a.by.trim() === '') issues.push(`${prefix}.by must be a non-empty string (who decided)`);
  if (a.at !== undefined && !(a.at instanceof Date || typeof a.at === 'number') ) issues.push(`${prefix}.at must be a Date or epoch milliseconds`);
  else if (a.at !== undefined && !Number.isFinite(new Date(a.at).getTime())) issues.push(`${prefix}.at must be a valid time`);
  if (a.reason !== undefined && typeof a.reason !== 'string') issues.push(`${prefix}.reason must be a string`);
  if (a.source !== undefined && typeof a.source !== 'string') issues.push(`${prefix}.source must be a string`);
  if (a.argsHash !== undefined && !isArgumentsHash(a.argsHash)) issues.push(`${prefix}.argsHash must be hmac-sha256:<8 hex key id>:<64 lowercase hex digits>, the pending record's tooltrail.approval.args_hash`);
}

/**
 * A plain copy of an approval-shaped value, each own field read exactly once. An answer or an
 * approval is checked, recorded and acted on: a getter (or a Proxy) read at each of those steps
 * could say `approved` to one and `rejected` to another, so only the copy is ever looked at.
 * May throw (a getter that throws): callers treat that as no approval.
 */
export function readApprovalOnce(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) out[k] = (value as Record<string, unknown>)[k];
  const at = out.at;
  // A Date is read once too: its time as a number, so a subclass cannot answer twice either.
  if (at instanceof Date) out.at = Date.prototype.getTime.call(at);
  return out;
}

/** The denial reason of a rejected call: the approver's words, else who rejected it. */
export function rejectionReason(approval: ApprovalRecord): string {
  return approval.reason ?? `rejected by ${approval.by}`;
}

/**
 * Writes the decision onto a call span: the whole of it as a `tooltrail.approval` event, and
 * decision, approver (and reason) as attributes of the span, so a backend can filter calls by
 * who approved them without reading events. `maskText` masks the free text of the reason,
 * `maskIdentity` the approver (an identity value, masked as a principal's id is).
 */
export function recordApproval(
  span: { addEvent(name: string, attributes: Attributes): unknown },
  attrs: Attributes,
  approval: ApprovalRecord,
  maskText: (text: string) => string,
  maskIdentity: (text: string) => string,
): void {
  const reason = approval.reason === undefined ? undefined : maskText(approval.reason);
  const by = maskIdentity(approval.by);
  const event: Attributes = {
    [sc.ATTR_APPROVAL_DECISION]: approval.decision,
    [sc.ATTR_APPROVAL_BY]: by,
    [sc.ATTR_APPROVAL_AT]: new Date(approval.at ?? Date.now()).toISOString(),
  };
  if (reason !== undefined) event[sc.ATTR_APPROVAL_REASON] = reason;
  // Free text from an adapter or an app, like the reason: masked and bounded the same way.
  if (approval.source !== undefined) event[sc.ATTR_APPROVAL_SOURCE] = maskText(approval.source);
  span.addEvent(sc.EVENT_APPROVAL, event);
  attrs[sc.ATTR_APPROVAL_DECISION] = approval.decision;
  attrs[sc.ATTR_APPROVAL_BY] = by;
  if (reason !== undefined) attrs[sc.ATTR_APPROVAL_REASON] = reason;
}
