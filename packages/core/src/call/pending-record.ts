import * as sc from '../contract/semconv.js';
import type { HeldCall, InvokeEngine } from './engine.js';
import { neverRanRecord } from './refused-record.js';
import { argumentsHash, ATTR_APPROVAL_ARGS_HASH } from './args-binding.js';
import { checkPendingInput, type PendingApprovalInput } from './approval-handler.js';
import type { ToolDefinition } from './tool-definition.js';

/**
 * Writes the record of a call a framework holds for approval (recordPendingApproval): one
 * `execute_tool` record, outcome `pending_approval`, decision `ask`, attempts 0; the body never
 * ran. Under strict durability it is on disk before this returns. The resumed call links to it
 * by its call id. Returns what the auditor holds for the resume: the call id and the hash of the
 * arguments, of the one reading that was recorded.
 */
export function recordPendingCall(engine: InvokeEngine, def: ToolDefinition, given: PendingApprovalInput): HeldCall {
  // Read once and checked again before the record starts: what is recorded, hashed and held is
  // one reading of each field (a getter could answer the caller's check one thing, us another).
  const input: PendingApprovalInput = { ...given };
  checkPendingInput(def.name, input);
  const rec = neverRanRecord(engine, def, input);
  const a = rec.attrs;
  const file = engine.policyFile;
  if (file !== undefined) {
    a[sc.ATTR_POLICY_ID] = file.id;
    a[sc.ATTR_POLICY_VERSION] = file.version;
  }
  a[sc.ATTR_DECISION] = 'ask';
  if (input.rule !== undefined) {
    a[sc.ATTR_POLICY_RULE] = input.rule;
    a[sc.ATTR_APPROVAL_RULE] = input.rule;
  }
  if (input.reason !== undefined) a[sc.ATTR_POLICY_REASON] = rec.text(input.reason);
  rec.recordArguments(input.args);
  // What the approval is asked for: the resumed call must have these arguments (asking.ts).
  const hash = input.args === undefined ? undefined : argumentsHash(engine.argsKey, input.callId, input.args);
  if (hash !== undefined) a[ATTR_APPROVAL_ARGS_HASH] = hash;
  rec.finish(sc.OUTCOME_PENDING_APPROVAL);
  rec.commit();
  return { callId: input.callId, argsHash: hash ?? null };
}
