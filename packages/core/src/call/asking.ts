import type { AuditDeniedError } from '../contract/errors.js';
import type { PolicyVerdict } from '../policy/evaluate.js';
import { adopt, ReadFailed, thenOf, withDeadline, type ExpiryReason } from '../policy/deadline.js';
import { describeError } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';
import { Execution, type ToolBody } from './execute.js';
import { answerProblems, type ApprovalAnswer, type ApprovalRequest } from './approval-handler.js';
import { checkApproval, readApprovalOnce, rejectionReason, type ApprovalRecord } from './approval.js';
import { ATTR_APPROVAL_ARGS_CHECK, ATTR_APPROVAL_ARGS_HASH, checkBinding, type ArgsBinding } from './args-binding.js';

/** The deadline passed (or the auditor shut down) before the handler answered. */
class Expired {
  constructor(readonly why: ExpiryReason) {}
}
/** The handler threw, or its promise rejected. */
class HandlerFailed {
  constructor(readonly error: unknown) {}
}

function asking(verdict: PolicyVerdict): string {
  return `rule ${verdict.rule ?? 'policy'} asked for approval${verdict.reason !== undefined ? ` (${verdict.reason})` : ''}`;
}

/**
 * The approval step of a call: an approval it carries (a framework's flow, a resumed call), and
 * an `ask` put to the auditor's approval handler under its own deadline. Every way it can end
 * other than an approval denies: no handler, no answer in time, a handler that throws or answers
 * garbage. A rejected call never runs and is recorded denied, rule `tooltrail.approval`.
 */
export abstract class ApprovalStep extends Execution {
  /** The approval the call carried (invokeWith({ approval })); an approved one answers an ask. */
  carried: ApprovalRecord | undefined;
  /** Set by carry() for an approved resume: what its arguments are checked against. */
  binding: ArgsBinding | undefined;
  /** The call's arguments as given (argumentView of them). */
  abstract readonly view: unknown;
  /** The policy file in force when the call was decided. */
  policyRef: { readonly id: string; readonly version: string } | undefined;

  /**
   * Before validation: the call's own approval, and whether it resumes a call held pending. A
   * resume that comes after the approval deadline is denied, whatever it carries.
   */
  carry(approval: ApprovalRecord | undefined, resumed: boolean | undefined, view: unknown): void {
    const id = this.suppliedId;
    const held = id !== undefined ? this.engine.takePending(id) : undefined;
    if (held !== undefined || resumed === true) this.attrs[sc.ATTR_APPROVAL_RESUMED] = true;
    if (approval === undefined) return;
    // Read once: what is recorded is what decides (see readApprovalOnce).
    let copy: unknown;
    const issues: string[] = [];
    try {
      copy = readApprovalOnce(approval);
      checkApproval(copy, 'approval', issues);
    } catch (err) {
      issues.push(`approval could not be read (${describeError(err)})`);
    }
    if (issues.length > 0) {
      const reason = `the call's approval is not one (${issues.join('; ')}); call denied (fail closed)`;
      this.tooltrailRejected(reason);
      throw this.deny(reason, undefined, { view });
    }
    approval = copy as ApprovalRecord;
    this.approval(approval);
    this.carried = approval;
    // A rejection is a denial like policy's (same record, same error), decided before the
    // schema runs: nothing about the arguments can overturn it.
    if (approval.decision === sc.APPROVAL_REJECTED) throw this.deny(rejectionReason(approval), undefined, { view });
    // An approved resume approves the arguments it was asked for, checked once they are
    // validated (bindArguments). A plain approval given with the call is bound by being given with it.
    if (held !== undefined || resumed === true || approval.argsHash !== undefined) {
      this.binding = { held: held?.argsHash, carried: approval.argsHash };
    }
    const ms = this.engine.approvalTimeoutMs;
    if (held !== undefined && Date.now() - held.at > ms) {
      const reason = `the approval came ${Date.now() - held.at} ms after the call was held for approval, past the ${ms} ms deadline; call denied (fail closed)`;
      this.tooltrailRejected(reason);
      throw this.deny(reason, undefined, { view });
    }
  }

  /**
   * A resumed approved call: its arguments (as given, and validated) must be the ones the
   * approval was asked for. Recorded either way (`tooltrail.approval.args_check`); other
   * arguments are denied, rule `tooltrail.approval`, before the rules run.
   */
  protected bindArguments(binding: ArgsBinding, validated: unknown): void {
    const r = checkBinding(binding, this.engine.argsKey, this.callId, this.view, validated);
    this.attrs[ATTR_APPROVAL_ARGS_CHECK] = r.check;
    if (r.hash !== undefined) this.attrs[ATTR_APPROVAL_ARGS_HASH] = r.hash;
    if (r.reason === undefined) return;
    this.tooltrailRejected(r.reason);
    throw this.deny(r.reason, undefined, { view: validated });
  }

  /** After an `ask` verdict, with the executed arguments recorded: approved runs, anything else denies. */
  asked(verdict: PolicyVerdict, fn: ToolBody, thisArg: unknown, callArgs: unknown[], executed: unknown): Promise<unknown> {
    if (this.carried?.decision === sc.APPROVAL_APPROVED) return this.execute(fn, thisArg, callArgs);
    const handler = this.engine.approvalHandler;
    if (handler === undefined) {
      throw this.deny(`${asking(verdict)}, but no approver is configured; call denied (fail closed)`, undefined);
    }
    const ms = this.engine.approvalTimeoutMs;
    const controller = new AbortController();
    const request: ApprovalRequest = {
      tool: this.def.name,
      callId: this.callId,
      args: executed,
      argsMasked: String(this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]),
      rule: verdict.rule,
      reason: verdict.reason,
      run: this.store?.run,
      policy: this.policyRef,
      signal: controller.signal,
    };
    let answer: unknown;
    try {
      answer = handler(request);
    } catch (err) {
      answer = new HandlerFailed(err);
    }
    // A `then` that cannot be read (a getter or a Proxy trap that throws) is a handler that failed.
    const then = thenOf(answer);
    if (then instanceof ReadFailed) answer = new HandlerFailed(then.error);
    if (then === undefined || then instanceof ReadFailed) return this.answered(answer, verdict, ms, fn, thisArg, callArgs);
    const guarded = adopt<unknown>(answer, then).then(undefined, (err: unknown) => new HandlerFailed(err));
    const onExpiry = (why: ExpiryReason): Expired => {
      controller.abort(new Error(why === 'deadline' ? `no approval within ${ms} ms` : 'the auditor shut down'));
      return new Expired(why);
    };
    return withDeadline<unknown>(guarded, ms, onExpiry, this.pending).then((settled) => this.settling(() => this.answered(settled, verdict, ms, fn, thisArg, callArgs)));
  }

  /** A step continued after an await: what it throws unrecorded is recorded (abandon), then rethrown. */
  protected settling<T>(step: () => T): T {
    try {
      return step();
    } catch (err) {
      this.abandon(err);
      throw err;
    }
  }

  private answered(value: unknown, verdict: PolicyVerdict, ms: number, fn: ToolBody, thisArg: unknown, callArgs: unknown[]): Promise<unknown> {
    if (value instanceof Expired) {
      const reason =
        value.why === 'deadline'
          ? `no approval within ${ms} ms (${asking(verdict)}); call denied (fail closed)`
          : `the auditor shut down while the call waited for approval (${asking(verdict)}); call denied (fail closed)`;
      this.tooltrailRejected(reason);
      throw this.deny(reason, undefined);
    }
    let failure: unknown;
    if (value instanceof HandlerFailed) failure = value.error;
    else {
      try {
        // Read once: the answer checked is the answer recorded and acted on.
        value = readApprovalOnce(value);
        const problems = answerProblems(value);
        if (problems.length > 0) failure = new TypeError(`the approval handler's answer is not one: ${problems.join('; ')}`);
      } catch (err) {
        failure = err;
      }
    }
    if (failure !== undefined) {
      const reason = `the approval handler failed (${describeError(failure)}); call denied (fail closed)`;
      this.tooltrailRejected(reason);
      throw this.deny(reason, failure);
    }
    const a = value as ApprovalAnswer;
    const record: ApprovalRecord = { decision: a.decision, by: a.by, at: a.at ?? Date.now(), source: sc.APPROVAL_SOURCE_HANDLER };
    if (a.reason !== undefined) record.reason = a.reason;
    this.approval(record);
    if (a.decision === sc.APPROVAL_REJECTED) throw this.deny(rejectionReason(record), undefined);
    return this.execute(fn, thisArg, callArgs);
  }

  /** tooltrail's own rejection on the record: nobody approved in time, or the handler broke. */
  private tooltrailRejected(reason: string): void {
    this.approval({ decision: sc.APPROVAL_REJECTED, by: sc.APPROVER_TOOLTRAIL, reason, source: sc.APPROVAL_SOURCE_HANDLER });
  }

  /** `args`: the arguments to record; undefined when they are on the record already. */
  private deny(reason: string, error: unknown, args?: { view: unknown }): AuditDeniedError {
    return this.decisionRecord({ kind: 'deny', args: args?.view, rule: sc.RULE_APPROVAL, reason, error }, args === undefined) as AuditDeniedError;
  }
}
