import type { RunIdentity } from '../identity/run-context.js';

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
export type PolicyDecision = AllowDecision | DenyDecision | RewriteDecision;

/**
 * A rule returns a decision, or undefined to abstain. Rules run in order; the first deny wins
 * and stops evaluation; a rewrite replaces the arguments later rules and the tool see.
 */
export type PolicyRule<Args = unknown> = (
  call: ToolCall<Args>,
) => PolicyDecision | undefined | void | Promise<PolicyDecision | undefined | void>;

export interface DecisionOptions {
  /** A stable id for the rule, recorded as `tooltrail.policy.rule`. Defaults to the rule function's name. */
  rule?: string;
}

export function allow(reason?: string, options?: DecisionOptions): AllowDecision {
  return { kind: 'allow', reason, rule: options?.rule };
}

export function deny(reason: string, options?: DecisionOptions): DenyDecision {
  return { kind: 'deny', reason, rule: options?.rule };
}

export function rewrite(args: unknown, reason: string, options?: DecisionOptions): RewriteDecision {
  return { kind: 'rewrite', args, reason, rule: options?.rule };
}
