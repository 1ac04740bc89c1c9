/**
 * A validated document to a CompiledPolicy: every `when` parsed and type-checked in the CEL
 * environment at load, so a bad expression is an AuditConfigError naming the rule, never a
 * surprise at the first call. Every glob becomes a matcher.
 */
import { AuditConfigError } from '../../contract/errors.js';
import { celEnvironment, celMessage } from './cel-env.js';
import { toolMatcher } from './glob.js';
import { conditionReads } from './reads.js';
import { checkRewritePath } from './rewrite.js';
import type { CompiledCondition, CompiledPolicy, CompiledRule, PolicyDocument, PolicyRuleDocument } from './types.js';

function compileCondition(rule: PolicyRuleDocument, issues: string[]): Pick<CompiledRule, 'condition' | 'reads'> {
  if (rule.when === undefined) return { condition: undefined, reads: undefined };
  const env = celEnvironment();
  let parsed: ReturnType<typeof env.parse>;
  try {
    parsed = env.parse(rule.when);
  } catch (err) {
    issues.push(`rule ${rule.id}: when does not parse: ${celMessage(err)}`);
    return { condition: undefined, reads: undefined };
  }
  const checked = parsed.check();
  if (!checked.valid) {
    issues.push(`rule ${rule.id}: when: ${celMessage(checked.error)}`);
    return { condition: undefined, reads: undefined };
  }
  // dyn may still be a bool at run time (`args.urgent`); anything else never is.
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    issues.push(`rule ${rule.id}: when must be a bool, not ${String(checked.type)}`);
    return { condition: undefined, reads: undefined };
  }
  return { condition: parsed as CompiledCondition, reads: conditionReads(parsed.ast) };
}

function compileRule(rule: PolicyRuleDocument, issues: string[]): CompiledRule {
  const { condition, reads } = compileCondition(rule, issues);
  const set = Object.entries(rule.set ?? {});
  const remove = rule.remove ?? [];
  for (const path of [...set.map(([p]) => p), ...remove]) {
    const problem = checkRewritePath(path);
    if (problem) issues.push(`rule ${rule.id}: ${problem}`);
  }
  return {
    id: rule.id,
    decide: rule.decide,
    reason: rule.reason,
    matches: toolMatcher(rule.tools),
    when: rule.when,
    condition,
    set,
    remove,
    reads,
  };
}

export function compilePolicy(doc: PolicyDocument, options?: { baseDir?: string }): CompiledPolicy {
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.rules)) {
    throw new AuditConfigError('invalid policy', ['compilePolicy takes a document from parsePolicyDocument']);
  }
  const issues: string[] = [];
  const rules = doc.rules.map((r) => compileRule(r, issues));
  if (issues.length > 0) throw new AuditConfigError(`invalid policy ${doc.id}`, issues);
  return Object.freeze({ id: doc.id, default: doc.default, rules: Object.freeze(rules), baseDir: options?.baseDir ?? process.cwd(), document: doc });
}
