import { AuditDeniedError, currentCall } from '@tooltrail/core';
import { CANARY_AGENT, type CanaryPlan, type CanaryRunPlan } from './canary.js';
import type { LoadedAuditor } from './load-auditor.js';

/** How one canary call ended inside the process, before anything is read back. */
export interface CanaryAttempt {
  label: 'a' | 'b';
  /** `denied`: AuditDeniedError; `allowed`: the body ran; `error`: anything else thrown. */
  result: 'denied' | 'allowed' | 'error';
  rule?: string;
  reason?: string;
  /** The error's class and message (for `error`), planted secrets replaced. */
  error?: string;
}

/** Replaces the planted values in text the check prints (an error may quote the arguments). */
export function scrub(plan: CanaryPlan, text: string): string {
  let out = text;
  for (const s of plan.secrets) out = out.split(s.value).join(`[planted ${s.kind}]`);
  return out;
}

/**
 * Runs the two canary runs one after the other (distinct runs, never nested): through the
 * module's `withRun` when it has one, else `auditor.run()`. The canary's body does nothing: when
 * a policy lets the call through, nothing leaves the process, and the check says so.
 */
export async function runCanary(loaded: LoadedAuditor, plan: CanaryPlan): Promise<CanaryAttempt[]> {
  const ran = new Set<string>();
  const body = async (_args: unknown) => {
    const id = currentCall()?.callId;
    if (id !== undefined) ran.add(id);
    return { done: false, note: 'tooltrail check canary: this body does nothing' };
  };
  const tool = loaded.auditor.withAudit(body, {
    name: plan.tool,
    description: 'tooltrail check canary: an out-of-scope call that must be denied and recorded',
  });
  const attempts: CanaryAttempt[] = [];
  for (const run of plan.runs) attempts.push(await attempt(loaded, plan, run, tool, ran));
  return attempts;
}

async function attempt(
  loaded: LoadedAuditor,
  plan: CanaryPlan,
  run: CanaryRunPlan,
  tool: { invokeWith(meta: { callId: string }, args: unknown): Promise<unknown> },
  ran: Set<string>,
): Promise<CanaryAttempt> {
  const identity = { principal: run.principal, agent: { name: CANARY_AGENT }, runId: run.runId };
  const call = () => tool.invokeWith({ callId: run.callId }, run.args);
  try {
    if (loaded.withRun) await loaded.withRun(identity, call);
    else await loaded.auditor.run(identity, call);
    return ran.has(run.callId) ? { label: run.label, result: 'allowed' } : { label: run.label, result: 'error', error: 'the call returned, but its body never ran (did withRun call fn?)' };
  } catch (err) {
    if (AuditDeniedError.isInstance(err)) {
      return {
        label: run.label,
        result: 'denied',
        ...(err.rule !== undefined ? { rule: err.rule } : {}),
        reason: scrub(plan, err.reason),
      };
    }
    if (ran.has(run.callId)) return { label: run.label, result: 'allowed' };
    const name = err instanceof Error ? err.name : typeof err;
    const message = err instanceof Error ? err.message : String(err);
    return { label: run.label, result: 'error', error: scrub(plan, `${name}: ${message}`) };
  }
}
