import type { Attributes } from '@opentelemetry/api';
import { AuditConfigError, type ValidationIssue } from '../contract/errors.js';
import { checkKeys } from '../contract/option-keys.js';
import { describeError } from '../payload/safe-json.js';
import { checkApproval, type ApprovalRecord } from './approval.js';

/** A call a framework refused before any body ran, as an adapter reports it (recordRefused). */
export interface RefusedCallInput {
  /** The proposed arguments, as the model sent them (masked like any payload). */
  args?: unknown;
  callId?: string;
  /** Why it never ran. */
  reason: string;
  /** `denied`: refused by someone or something; `invalid`: the arguments were unusable. */
  kind: 'denied' | 'invalid';
  /** Who refused it (a framework component or a person). */
  by?: string;
  /** For kind `invalid`: what was wrong; default one issue holding `reason`. */
  issues?: ValidationIssue[];
  /** When the refusal was an approval decision. */
  approval?: ApprovalRecord;
  /** An adapter's attributes, filtered like CallMeta.attributes. */
  attributes?: Attributes;
}

const REFUSED_KEYS: readonly string[] = ['args', 'callId', 'reason', 'kind', 'by', 'issues', 'approval', 'attributes'];

/** A malformed report is the adapter's bug: an error at once, never a record that says less than it seems. */
export function checkRefusedInput(tool: string, input: unknown): asserts input is RefusedCallInput {
  const issues: string[] = [];
  if (typeof input !== 'object' || input === null) issues.push('recordRefused() needs an object { reason, kind, ... }');
  else {
    // Each field read once: a getter cannot pass one check and fail the next with a raw error.
    let r: Partial<Record<keyof RefusedCallInput, unknown>>;
    try {
      r = { ...(input as object) };
    } catch (err) {
      throw new AuditConfigError(`tool "${tool}": recordRefused() input could not be read (${describeError(err)}); nothing was recorded`);
    }
    checkKeys(r, REFUSED_KEYS, '', issues);
    if (typeof r.reason !== 'string' || r.reason.trim() === '') issues.push('reason must be a non-empty string (why the call never ran)');
    if (r.kind !== 'denied' && r.kind !== 'invalid') issues.push("kind must be 'denied' or 'invalid'");
    if (r.callId !== undefined && typeof r.callId !== 'string') issues.push('callId must be a string');
    if (r.by !== undefined && typeof r.by !== 'string') issues.push('by must be a string');
    if (r.issues !== undefined && !validIssues(r.issues)) issues.push('issues must be an array of { path, code, message }');
    if (r.attributes !== undefined && (typeof r.attributes !== 'object' || r.attributes === null)) issues.push('attributes must be an object');
    if (r.approval !== undefined) checkApproval(r.approval, 'approval', issues);
  }
  if (issues.length > 0) throw new AuditConfigError(`tool "${tool}": invalid recordRefused() input; nothing was recorded`, issues);
}

function validIssues(v: unknown): v is ValidationIssue[] {
  return (
    Array.isArray(v) &&
    v.every((i) => typeof i === 'object' && i !== null && Array.isArray(i.path) && typeof i.code === 'string' && typeof i.message === 'string')
  );
}
