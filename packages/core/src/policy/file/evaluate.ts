/**
 * One call against a compiled policy. Rules apply in file order among those whose tools match;
 * the first applicable allow, deny or ask ends evaluation; a rewrite applies and evaluation goes
 * on with the rewritten arguments; no applicable rule: the default. A condition that throws,
 * answers something that is not a bool, or arguments too large to read: denied (fail closed).
 */
import { RULE_POLICY_ERROR_PREFIX } from '../../contract/semconv.js';
import { Facts, RunAgent, RunFacts, RunPrincipal } from './fact-classes.js';
import { computeFacts, leafPaths } from './facts.js';
import { removePath, setPath } from './rewrite.js';
import type { CompiledPolicy, CompiledRule, FileDecision, PolicyCallInput, PolicyRunInput, PolicyTrace } from './types.js';

const NO_FACTS = new Facts([], [], [], {}, {});
const NO_ATTRIBUTES: Record<string, unknown> = {};

function runFacts(run: PolicyRunInput | undefined): RunFacts {
  return new RunFacts(
    new RunPrincipal(run?.principal?.id ?? '', run?.principal?.type ?? ''),
    new RunAgent(run?.agent?.name ?? '', run?.agent?.id ?? ''),
    run?.runId ?? '',
    run?.attributes ?? NO_ATTRIBUTES,
  );
}

function failed(rule: CompiledRule, error: unknown, args: unknown, rewritten: boolean): FileDecision {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return {
    kind: 'deny',
    rule: `${RULE_POLICY_ERROR_PREFIX}${rule.id}`,
    reason: `policy file rule ${rule.id} failed, call denied (fail closed): ${message}`,
    error,
    ...(rewritten ? { args } : {}),
  };
}

function report(trace: PolicyTrace, rule: CompiledRule, args: unknown): void {
  const reads = rule.reads;
  if (reads === undefined) return;
  for (const p of reads.argPaths) trace.read(p);
  if (reads.allStrings || reads.allLeaves) for (const p of leafPaths(args, reads.allLeaves)) trace.read(p);
}

export function evaluatePolicyDocument(policy: CompiledPolicy, call: PolicyCallInput, trace?: PolicyTrace): FileDecision {
  let args: unknown = call.args === undefined ? {} : call.args;
  let rewrite: CompiledRule | undefined;
  let facts: Facts | undefined;
  let run: RunFacts | undefined;
  for (const rule of policy.rules) {
    if (!rule.matches(call.tool)) continue;
    if (rule.condition !== undefined) {
      if (trace !== undefined) report(trace, rule, args);
      let answer: unknown;
      try {
        if (rule.reads?.facts === true && facts === undefined) facts = computeFacts(args, policy.baseDir);
        run ??= runFacts(call.run);
        answer = rule.condition({ tool: call.tool, args, facts: facts ?? NO_FACTS, run });
      } catch (err) {
        return failed(rule, err, args, rewrite !== undefined);
      }
      if (typeof answer !== 'boolean') {
        return failed(rule, new TypeError(`when evaluated to ${typeof answer}, not a bool`), args, rewrite !== undefined);
      }
      if (!answer) continue;
    }
    if (rule.decide === 'rewrite') {
      for (const [path, value] of rule.set) args = setPath(args, path, value);
      for (const path of rule.remove) args = removePath(args, path);
      rewrite = rule;
      facts = undefined; // the facts of the old arguments no longer hold
      continue;
    }
    // An allow after a rewrite still executes the rewritten arguments: recorded as the rewrite.
    if (rule.decide === 'allow' && rewrite !== undefined) return { kind: 'rewrite', rule: rewrite.id, reason: rewrite.reason, args };
    return { kind: rule.decide, rule: rule.id, reason: rule.reason, ...(rewrite !== undefined ? { args } : {}) };
  }
  if (policy.default === 'deny') {
    return { kind: 'deny', rule: undefined, reason: `no rule of policy ${policy.id} applies to ${call.tool}; the default is deny`, ...(rewrite !== undefined ? { args } : {}) };
  }
  if (rewrite !== undefined) return { kind: 'rewrite', rule: rewrite.id, reason: rewrite.reason, args };
  return { kind: 'allow', rule: undefined, reason: undefined };
}
