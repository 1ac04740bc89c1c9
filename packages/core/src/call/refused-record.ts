import type { Attributes } from '@opentelemetry/api';
import type { RefusedCall } from '../contract/refusal.js';
import type { AuditDeniedError } from '../contract/errors.js';
import { auditStorage } from '../identity/run-context.js';
import * as sc from '../contract/semconv.js';
import type { InvokeEngine } from './engine.js';
import { adapterAttributes } from './adapter-attributes.js';
import { CallRecord } from './call-record.js';
import { checkRefusedInput, type RefusedCallInput } from './refused.js';
import { readApprovalOnce } from './approval.js';
import type { ToolDefinition } from './tool-definition.js';

/**
 * Writes the record of a call a framework refused before any body ran (AuditedFunction.recordRefused):
 * one `execute_tool` record, denied or invalid, attempts 0; returns (never throws) its refusal.
 */
export function recordRefusedCall(engine: InvokeEngine, def: ToolDefinition, given: RefusedCallInput): RefusedCall {
  // Read once and checked again before the record starts: a getter that passed the caller's
  // check and answers otherwise now cannot throw from a half-written record (left in flight).
  const input = readRefusedOnce(given);
  checkRefusedInput(def.name, input);
  const rec = neverRanRecord(engine, def, input);
  const a = rec.attrs;
  // A framework's refusal of a call it held for approval closes that pending record.
  if (input.callId !== undefined && engine.takePending(input.callId) !== undefined) a[sc.ATTR_APPROVAL_RESUMED] = true;
  if (input.approval !== undefined) rec.approval(input.approval);
  if (input.by !== undefined) a[sc.ATTR_REFUSED_BY] = rec.identityText(input.by, sc.ATTR_REFUSED_BY);
  a[sc.ATTR_REFUSED_REASON] = rec.text(input.reason);
  let error: RefusedCall;
  if (input.kind === 'invalid') {
    error = rec.invalidRecord(input.issues ?? [{ path: [], code: sc.ISSUE_FRAMEWORK_INVALID, message: input.reason }], input.args);
  } else {
    const rule = input.approval?.decision === sc.APPROVAL_REJECTED ? sc.RULE_APPROVAL : sc.RULE_FRAMEWORK;
    // A deny verdict always ends the record with its denial.
    error = rec.decisionRecord({ kind: 'deny', args: input.args, rule, reason: input.reason, error: undefined }) as AuditDeniedError;
  }
  // Strict durability: both records above commit before returning, so the refusal is on disk
  // before the adapter tells the model about it.
  return error;
}

/**
 * The record of a call whose body never ran and never will here (refused by a framework, or held
 * for approval): the arguments as the framework gave them, its call id, the adapter's attributes.
 */
export function neverRanRecord(
  engine: InvokeEngine,
  def: ToolDefinition,
  input: { callId?: string | undefined; args?: unknown; attributes?: Attributes | undefined },
): CallRecord {
  return new CallRecord({
    engine,
    def,
    store: auditStorage.getStore(),
    suppliedId: input.callId,
    proposed: input.args,
    proposedGiven: false,
    extra: input.attributes === undefined ? undefined : adapterAttributes(input.attributes),
  });
}

/** A plain copy of a refusal report, each field (and each issue's, and the approval's) read once. */
function readRefusedOnce(given: RefusedCallInput): RefusedCallInput {
  const out = { ...given } as Record<string, unknown>;
  const issues = out.issues;
  if (Array.isArray(issues)) {
    out.issues = issues.map((i: unknown) => {
      if (typeof i !== 'object' || i === null) return i;
      const { path, code, message } = i as Record<string, unknown>;
      return { path: Array.isArray(path) ? [...(path as unknown[])] : path, code, message };
    });
  }
  if (out.approval !== undefined) out.approval = readApprovalOnce(out.approval);
  return out as unknown as RefusedCallInput;
}
