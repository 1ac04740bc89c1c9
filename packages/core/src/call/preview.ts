import { auditStorage } from '../identity/run-context.js';
import { newCallId } from '../identity/ids.js';
import { withDeadline } from '../policy/deadline.js';
import { evaluatePolicy, timeoutVerdict, type PolicyProgress, type PolicyVerdict } from '../policy/evaluate.js';
import type { InvokeEngine } from './engine.js';
import type { PreviewDecision } from './approval-handler.js';
import { checkArguments, type Checked, type DecisionClock } from './validate.js';
import type { ToolDefinition } from './tool-definition.js';

function preview(v: PolicyVerdict): PreviewDecision {
  const out: PreviewDecision = { kind: v.kind };
  if (v.rule !== undefined) out.rule = v.rule;
  if (v.reason !== undefined) out.reason = v.reason;
  return out;
}

/**
 * The decision a call would get (AuditedFunction.previewDecision): identity, the policy file,
 * the auditor's and the tool's rules, under the same deadline; the body does not run and nothing
 * is recorded. The rules see the arguments as the schema parses them; arguments the schema
 * rejects are shown to the rules as given (the call itself would be recorded invalid).
 */
export function previewCall(engine: InvokeEngine, def: ToolDefinition, args: unknown, callId: string | undefined): Promise<PreviewDecision> {
  let ends: number | undefined;
  const clock: DecisionClock = {
    decisionMs: () => def.policyTimeoutMs ?? engine.policyTimeoutMs,
    remainingDecisionMs: () => {
      const now = Date.now();
      ends ??= now + clock.decisionMs();
      return ends - now;
    },
    pending: engine.pendingDecisions,
  };
  const run = auditStorage.getStore()?.run;
  const id = callId ?? newCallId();
  const decide = (checked: Checked): PolicyVerdict | Promise<PolicyVerdict> => {
    const validated = checked.ok ? checked.value : args;
    const rules = def.policy.length === 0 ? engine.policy : [...engine.policy, ...def.policy];
    const progress: PolicyProgress = { rule: undefined, args: validated };
    const pending = evaluatePolicy(rules, { tool: def.name, args: validated, proposedArgs: args, callId: id, run }, engine.requireIdentity, progress, engine.policyFile);
    if (!(pending instanceof Promise)) return pending;
    const ms = clock.decisionMs();
    return withDeadline(pending, clock.remainingDecisionMs(), (why) => timeoutVerdict(progress, ms, why), engine.pendingDecisions);
  };
  try {
    const checked: Checked | Promise<Checked> = def.schema === undefined ? { ok: true, value: args } : checkArguments(def.schema, args, clock);
    const verdict = checked instanceof Promise ? Promise.resolve(checked).then(decide) : decide(checked);
    return Promise.resolve(verdict).then(preview);
  } catch (err) {
    return Promise.reject(err);
  }
}
