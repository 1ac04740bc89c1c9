import { AuditConfigError } from '../contract/errors.js';
import type { RunIdentity } from '../identity/run-context.js';
import { checkKeys } from '../contract/option-keys.js';

/** What a policy rule sees: the real (validated, unmasked) arguments and who is asking. */
export interface ToolCall<Args = unknown> {
  readonly tool: string;
  /** The arguments that will execute if the call is allowed (after validation and earlier rewrites). */
  readonly args: Args;
  /** The arguments as proposed, before validation and rewrites. */
  readonly proposedArgs: unknown;
  readonly callId: string;
  readonly run: RunIdentity | undefined;
}

export interface AllowDecision {
  readonly kind: 'allow';
  readonly rule?: string | undefined;
  readonly reason?: string | undefined;
}
export interface DenyDecision {
  readonly kind: 'deny';
  readonly reason: string;
  readonly rule?: string | undefined;
}
export interface RewriteDecision {
  readonly kind: 'rewrite';
  readonly args: unknown;
  readonly reason: string;
  readonly rule?: string | undefined;
}
/**
 * Ask for approval: the call waits for the auditor's approval handler (or carries an approval
 * from the framework's own flow). Evaluation goes on, so a later deny still wins.
 */
export interface AskDecision {
  readonly kind: 'ask';
  readonly reason: string;
  readonly rule?: string | undefined;
}
export type PolicyDecision = AllowDecision | DenyDecision | RewriteDecision | AskDecision;

/**
 * A rule returns a decision, or undefined to abstain. Rules run in order; the first deny wins
 * and stops evaluation; a rewrite replaces the arguments later rules and the tool see; an ask
 * is asked once every rule has had its say and none denied.
 */
export type PolicyRule<Args = unknown> = (
  call: ToolCall<Args>,
) => PolicyDecision | undefined | void | Promise<PolicyDecision | undefined | void>;

export interface DecisionOptions {
  /** A stable id for the rule, recorded as `tooltrail.policy.rule`. Defaults to the rule function's name. */
  rule?: string;
}

/** A typo here would record the rule function's name instead of the id meant: an error instead. */
function ruleOption(options: DecisionOptions | undefined): string | undefined {
  if (options === undefined) return undefined;
  const issues: string[] = [];
  if (typeof options !== 'object' || options === null) issues.push('decision options must be an object');
  else {
    checkKeys(options, ['rule'], '', issues);
    if (options.rule !== undefined && typeof options.rule !== 'string') issues.push('rule must be a string');
  }
  if (issues.length > 0) throw new AuditConfigError('invalid decision options', issues);
  return options.rule;
}

export function allow(reason?: string, options?: DecisionOptions): AllowDecision {
  return { kind: 'allow', reason, rule: ruleOption(options) };
}

export function deny(reason: string, options?: DecisionOptions): DenyDecision {
  return { kind: 'deny', reason, rule: ruleOption(options) };
}

export function rewrite(args: unknown, reason: string, options?: DecisionOptions): RewriteDecision {
  return { kind: 'rewrite', args, reason, rule: ruleOption(options) };
}

export function ask(reason: string, options?: DecisionOptions): AskDecision {
  return { kind: 'ask', reason, rule: ruleOption(options) };
}
