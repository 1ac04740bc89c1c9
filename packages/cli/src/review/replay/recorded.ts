/**
 * What the record says was decided, and what the whole chain would decide with the candidate
 * file in the old file's place. The chain (docs/policy.md): identity first, then the policy
 * file, then the auditor's and the tool's code rules; a deny anywhere denies, an ask is asked
 * once every step allowed, a file allow never skips code rules. Only the file is replayed:
 * code rules are assumed to decide as recorded.
 */
import * as sc from '@tooltrail/core/semconv';
import type { CallView } from '../calls.js';

export type DecisionKind = 'allow' | 'deny' | 'ask' | 'rewrite';

export interface RecordedDecision {
  /** `invalid`: the schema refused the arguments; no policy ran. */
  kind: DecisionKind | 'invalid';
  rule: string | undefined;
  /**
   * Which step decided. `file`: the policy file (its default, or a rule the candidate also has);
   * `identity`: requireIdentity; `code`: code rules, or no policy file was loaded (no
   * `tooltrail.policy.id`); `unknown`: a file was loaded and the rule is not one the candidate
   * knows: a code rule, or a file rule the candidate dropped. Compared as if the file's (a
   * dropped rule must show), with a note.
   */
  by: 'file' | 'identity' | 'code' | 'unknown';
  /** An approval's answer, when the call was asked. */
  approval?: string;
  /** The rule that asked (`tooltrail.approval.rule`), when an approval step then decided. */
  askRule?: string;
}

export const { RULE_REQUIRE_IDENTITY, RULE_APPROVAL, RULE_POLICY_DEFAULT } = sc;
const { RULE_POLICY_ERROR_PREFIX } = sc;
const FILE_STEP = 'policy-file';

function decidedBy(c: CallView & { askRule?: string }, fileRules: ReadonlySet<string>): RecordedDecision['by'] {
  if (c.rule === RULE_REQUIRE_IDENTITY) return 'identity';
  if (c.policyId === undefined) return 'code';
  let rule = c.rule === RULE_APPROVAL ? c.askRule : c.rule;
  if (rule === undefined || rule === RULE_POLICY_DEFAULT || rule === FILE_STEP) return 'file';
  if (rule.startsWith(RULE_POLICY_ERROR_PREFIX)) rule = rule.slice(RULE_POLICY_ERROR_PREFIX.length);
  if (rule === FILE_STEP || fileRules.has(rule)) return 'file';
  return 'unknown';
}

/** `fileRules`: the candidate's rule ids (a recorded rule with one of them was the file's). */
export function recordedDecision(c: CallView & { askRule?: string }, fileRules: ReadonlySet<string> = new Set()): RecordedDecision {
  const base = { rule: c.rule, by: decidedBy(c, fileRules), ...(c.askRule !== undefined ? { askRule: c.askRule } : {}) };
  if (c.outcome === 'invalid') return { ...base, kind: 'invalid' };
  // Asked: still pending, answered by the approval step (denied ones carry its rule), or recorded as `ask`.
  if (c.outcome === 'pending_approval') return { ...base, kind: 'ask', approval: 'pending' };
  if (c.decision === 'ask' || c.rule === RULE_APPROVAL || c.askRule !== undefined) {
    return { ...base, kind: 'ask', ...(c.approval ? { approval: c.approval.decision } : c.outcome === 'denied' ? { approval: 'denied' } : {}) };
  }
  if (c.outcome === 'denied' || c.decision === 'deny') return { ...base, kind: 'deny' };
  if (c.decision === 'rewrite') return { ...base, kind: 'rewrite' };
  return { ...base, kind: 'allow' };
}

/** The chain's decision with the candidate file's `candidate` in place of the recorded file step. */
export function expectedKind(recorded: RecordedDecision, candidate: DecisionKind): DecisionKind {
  const r = recorded.kind;
  if (r === 'invalid') return candidate; // not compared: the schema refuses first
  if (recorded.by === 'identity') return r; // identity runs before the file
  if (candidate === 'deny') return 'deny';
  if (recorded.by === 'file' || recorded.by === 'unknown') return candidate; // the step that decided is the one replaced
  // Code rules decided (the old file, if any, allowed): their deny, ask or rewrite still stands.
  if (candidate === 'ask') return r === 'deny' ? 'deny' : 'ask';
  if (r === 'deny' || r === 'ask' || r === 'rewrite') return r;
  return candidate;
}
