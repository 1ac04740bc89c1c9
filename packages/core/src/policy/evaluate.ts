import { RULE_POLICY_ERROR_PREFIX, RULE_POLICY_TIMEOUT, RULE_REQUIRE_IDENTITY } from '../contract/semconv.js';
import type { ExpiryReason } from './deadline.js';
import type { PolicyDecision, PolicyRule, ToolCall } from './decisions.js';

/** The verdict of all rules together, as recorded on the span. */
export interface PolicyVerdict {
  readonly kind: 'allow' | 'deny' | 'rewrite';
  /** The arguments that execute when the verdict is not deny. */
  readonly args: unknown;
  readonly rule: string | undefined;
  readonly reason: string | undefined;
  /** Set when a rule threw: the call is denied (fail closed) and this is recorded. */
  readonly error: unknown;
}

function ruleId(rule: PolicyRule, index: number, decision?: PolicyDecision): string {
  return decision?.rule ?? (rule.name ? rule.name : `policy[${index}]`);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function isDecision(v: unknown): v is PolicyDecision {
  if (typeof v !== 'object' || v === null) return false;
  const kind = (v as { kind?: unknown }).kind;
  return kind === 'allow' || kind === 'deny' || kind === 'rewrite';
}

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
  kind: PolicyVerdict['kind'] = 'allow';
  rule: string | undefined;
  reason: string | undefined;
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
    if (!isDecision(answer)) {
      // A rule that returns garbage is a broken rule: fail closed, like a throw.
      return this.broken(index, new TypeError(`policy rule ${ruleId(rule, index)} returned a value that is not a decision`));
    }
    const id = ruleId(rule, index, answer);
    if (answer.kind === 'deny') {
      return { kind: 'deny', args: this.args, rule: id, reason: answer.reason, error: undefined };
    }
    if (answer.kind === 'rewrite') {
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

  broken(index: number, error: unknown): PolicyVerdict {
    const rule = this.rules[index] as PolicyRule;
    const id = ruleId(rule, index);
    const message = error instanceof Error ? error.message : String(error);
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
    return { kind: this.kind, args: this.args, rule: this.rule, reason: this.reason, error: undefined };
  }
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
  if (rules.length === 0) return { kind: 'allow', args: call.args, rule: undefined, reason: undefined, error: undefined };
  const ev = new Evaluation(rules, call);
  for (let i = 0; i < rules.length; i++) {
    let answer: unknown;
    try {
      answer = (rules[i] as PolicyRule)(ev.callFor());
    } catch (err) {
      return ev.broken(i, err);
    }
    if (isThenable(answer)) return continueAsync(ev, rules, i, answer, progress);
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
