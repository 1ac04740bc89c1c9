import { RULE_POLICY_DEFAULT, RULE_POLICY_ERROR_PREFIX, RULE_POLICY_TIMEOUT, RULE_REQUIRE_IDENTITY } from '../contract/semconv.js';
import { describeError } from '../payload/safe-json.js';
import { adopt, ReadFailed, thenOf, type ExpiryReason } from './deadline.js';
import type { PolicyDecision, PolicyRule, ToolCall } from './decisions.js';
import type { FileDecision, PolicyCallInput } from './file/file-policy.js';

/** The verdict of all rules together, as recorded on the span. */
export interface PolicyVerdict {
  /** `ask`: no rule denied and one asked; the call waits for an approval. */
  readonly kind: 'allow' | 'deny' | 'rewrite' | 'ask';
  /** The arguments that execute when the verdict is not deny. */
  readonly args: unknown;
  readonly rule: string | undefined;
  readonly reason: string | undefined;
  /** Set when a rule threw: the call is denied (fail closed) and this is recorded. */
  readonly error: unknown;
  /** True when a rewrite replaced the arguments (they are validated again), whatever the kind. */
  readonly rewrote?: boolean;
}

/** The policy file as one step of the evaluation (FilePolicy fits; tests may give a fake). */
export interface FileStep {
  decide(call: PolicyCallInput): FileDecision;
}

function ruleId(rule: PolicyRule, index: number, decision?: PolicyDecision): string {
  if (decision?.rule !== undefined) return decision.rule;
  let name: unknown;
  try {
    name = rule.name; // a function's own `name` can be a getter too
  } catch {
    name = undefined;
  }
  return typeof name === 'string' && name !== '' ? name : `policy[${index}]`;
}

/**
 * A rule's answer as a plain decision, each field read once (a getter could answer one thing to
 * the check and another to the record), or the reason it is none. May throw (a getter or a
 * Proxy trap that throws): the caller treats that as a broken rule. A reason or rule id that is
 * not a string is refused rather than stringified: its toString could throw, or say anything.
 */
function readDecision(v: unknown, rule: string): PolicyDecision | TypeError {
  if (typeof v !== 'object' || v === null) return new TypeError(`policy rule ${rule} returned a value that is not a decision`);
  const d = v as { kind?: unknown; reason?: unknown; rule?: unknown; args?: unknown };
  const kind = d.kind;
  if (kind !== 'allow' && kind !== 'deny' && kind !== 'rewrite' && kind !== 'ask') return new TypeError(`policy rule ${rule} returned a value that is not a decision`);
  const reason = d.reason;
  if (reason !== undefined && typeof reason !== 'string') return new TypeError(`policy rule ${rule} returned a decision whose reason is not a string`);
  const id = d.rule;
  if (id !== undefined && typeof id !== 'string') return new TypeError(`policy rule ${rule} returned a decision whose rule is not a string`);
  if (kind === 'rewrite') return { kind, args: d.args, reason: reason as string, rule: id };
  return { kind, reason: reason as string, rule: id };
}

/** An error's message for a reason: never throws, always a string. */
function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) {
      const m: unknown = error.message;
      return typeof m === 'string' ? m : describeError(error);
    }
    return typeof error === 'string' ? error : String(error);
  } catch {
    return describeError(error);
  }
}

const FILE_STEP = 'policy-file';

/** Where an asynchronous evaluation is: the rule it waits for, the arguments so far. */
export interface PolicyProgress {
  rule: string | undefined;
  args: unknown;
}

/** The verdict of rules that did not decide in time: denied, fail closed. */
export function timeoutVerdict(progress: PolicyProgress, ms: number, why: ExpiryReason): PolicyVerdict {
  const rule = progress.rule ?? 'policy';
  return {
    kind: 'deny',
    args: progress.args,
    rule: RULE_POLICY_TIMEOUT,
    reason:
      why === 'deadline'
        ? `policy rule ${rule} did not decide within ${ms} ms; call denied (fail closed)`
        : `the auditor shut down while policy rule ${rule} was still deciding; call denied (fail closed)`,
    error: undefined,
  };
}

class Evaluation {
  args: unknown;
  kind: 'allow' | 'rewrite' = 'allow';
  rule: string | undefined;
  reason: string | undefined;
  /** The first step that asked: asked once every step allowed. */
  asked = false;
  askRule: string | undefined;
  askReason: string | undefined;
  constructor(
    private readonly rules: readonly PolicyRule[],
    private readonly call: ToolCall,
  ) {
    this.args = call.args;
  }

  /** Applies one rule's answer; returns a final verdict when evaluation must stop. */
  apply(index: number, answer: unknown): PolicyVerdict | undefined {
    const rule = this.rules[index] as PolicyRule;
    if (answer === undefined || answer === null) return undefined;
    let decision: PolicyDecision | TypeError;
    try {
      decision = readDecision(answer, ruleId(rule, index));
    } catch (err) {
      return this.broken(index, err);
    }
    // A rule that returns garbage (or an answer that cannot be read) is a broken rule: fail closed, like a throw.
    if (decision instanceof TypeError) return this.broken(index, decision);
    return this.take(decision, ruleId(rule, index, decision));
  }

  /** Applies one decision whose rule id is known; returns the verdict when it ends evaluation. */
  take(answer: PolicyDecision, id: string): PolicyVerdict | undefined {
    if (answer.kind === 'deny') {
      return { kind: 'deny', args: this.args, rule: id, reason: answer.reason, error: undefined };
    }
    if (answer.kind === 'ask') {
      if (!this.asked) {
        this.asked = true;
        this.askRule = id;
        this.askReason = answer.reason;
      }
    } else if (answer.kind === 'rewrite') {
      this.args = answer.args;
      this.kind = 'rewrite';
      this.rule = id;
      this.reason = answer.reason;
    } else if (this.kind === 'allow') {
      this.rule = id;
      this.reason = answer.reason;
    }
    return undefined;
  }

  /**
   * The policy file's decision, first after identity. Its deny and ask count like a rule's; its
   * allow does not end evaluation (code rules can narrow it, never widen it).
   */
  file(step: FileStep): PolicyVerdict | undefined {
    let d: FileDecision;
    try {
      d = step.decide({ tool: this.call.tool, args: this.args, callId: this.call.callId, run: fileRun(this.call) });
    } catch (err) {
      return this.failed(FILE_STEP, err); // decide() should never throw: fail closed if it does
    }
    if (d.error !== undefined) return this.failed(d.rule ?? FILE_STEP, d.error);
    const id = d.rule ?? RULE_POLICY_DEFAULT;
    switch (d.kind) {
      case 'deny':
        return this.take({ kind: 'deny', reason: d.reason ?? (d.rule === undefined ? 'denied by the policy file\'s default' : `denied by policy file rule ${d.rule}`), rule: id }, id);
      case 'rewrite':
        return this.take({ kind: 'rewrite', args: d.args, reason: d.reason ?? `rewritten by policy file rule ${id}`, rule: id }, id);
      case 'ask':
        return this.take({ kind: 'ask', reason: d.reason ?? `policy file rule ${id} asks for approval`, rule: id }, id);
      case 'allow':
        return this.take({ kind: 'allow', reason: d.reason, rule: id }, id);
      default:
        return this.failed(FILE_STEP, new TypeError('the policy file returned a decision of an unknown kind'));
    }
  }

  broken(index: number, error: unknown): PolicyVerdict {
    return this.failed(ruleId(this.rules[index] as PolicyRule, index), error);
  }

  failed(id: string, error: unknown): PolicyVerdict {
    const message = messageOf(error);
    return {
      kind: 'deny',
      args: this.args,
      rule: `${RULE_POLICY_ERROR_PREFIX}${id}`,
      reason: `policy rule ${id} failed, call denied (fail closed): ${message}`,
      error,
    };
  }

  callFor(): ToolCall {
    return this.args === this.call.args ? this.call : { ...this.call, args: this.args };
  }

  verdict(): PolicyVerdict {
    const rewrote = this.kind === 'rewrite';
    if (this.asked) return { kind: 'ask', args: this.args, rule: this.askRule, reason: this.askReason, error: undefined, rewrote };
    return { kind: this.kind, args: this.args, rule: this.rule, reason: this.reason, error: undefined, rewrote };
  }
}

/** The run as the policy file reads it. */
function fileRun(call: ToolCall): PolicyCallInput['run'] {
  const run = call.run;
  if (run === undefined) return undefined;
  return { principal: run.principal, agent: run.agent, runId: run.runId, attributes: run.attributes };
}

/**
 * Runs the rules in order. Stays synchronous while every rule answers synchronously, so a
 * plain predicate costs no promise hop on the hot path.
 */
export function evaluatePolicy(
  rules: readonly PolicyRule[],
  call: ToolCall,
  requireIdentity: boolean,
  progress?: PolicyProgress,
  file?: FileStep,
): PolicyVerdict | Promise<PolicyVerdict> {
  if (requireIdentity && call.run === undefined) {
    return {
      kind: 'deny',
      args: call.args,
      rule: RULE_REQUIRE_IDENTITY,
      reason: 'call made outside an audited run: no principal to attribute it to',
      error: undefined,
    };
  }
  if (rules.length === 0 && file === undefined) return { kind: 'allow', args: call.args, rule: undefined, reason: undefined, error: undefined };
  const ev = new Evaluation(rules, call);
  if (file !== undefined) {
    const final = ev.file(file);
    if (final) return final;
  }
  for (let i = 0; i < rules.length; i++) {
    let answer: unknown;
    try {
      answer = (rules[i] as PolicyRule)(ev.callFor());
    } catch (err) {
      return ev.broken(i, err);
    }
    // A `then` that cannot be read is a broken rule, as a throw is.
    const then = thenOf(answer);
    if (then instanceof ReadFailed) return ev.broken(i, then.error);
    if (then !== undefined) return continueAsync(ev, rules, i, adopt(answer, then), progress);
    const final = ev.apply(i, answer);
    if (final) return final;
  }
  return ev.verdict();
}

async function continueAsync(
  ev: Evaluation,
  rules: readonly PolicyRule[],
  start: number,
  pending: PromiseLike<unknown>,
  progress: PolicyProgress | undefined,
): Promise<PolicyVerdict> {
  for (let i = start; i < rules.length; i++) {
    let answer: unknown;
    if (progress !== undefined) {
      progress.rule = ruleId(rules[i] as PolicyRule, i);
      progress.args = ev.args;
    }
    try {
      answer = i === start ? await pending : await (rules[i] as PolicyRule)(ev.callFor());
    } catch (err) {
      return ev.broken(i, err);
    }
    const final = ev.apply(i, answer);
    if (final) return final;
  }
  return ev.verdict();
}
