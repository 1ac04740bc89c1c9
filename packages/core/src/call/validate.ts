import type { ValidationIssue } from '../contract/errors.js';
import { adopt, ReadFailed, thenOf, withDeadline, type ExpiryReason, type PendingDecision } from '../policy/deadline.js';
import { describeError } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';
import { toValidationIssues, type ArgumentSchema, type SchemaResult } from './tool-definition.js';

export type Checked = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

/** The call's decision deadline, shared by its schema and its policy rules. */
export interface DecisionClock {
  /** The deadline's length (the tool's, else the auditor's). */
  decisionMs(): number;
  /** What is left of it, starting it on first use. */
  remainingDecisionMs(): number;
  readonly pending: Set<PendingDecision>;
}

type SchemaIssues = Parameters<typeof toValidationIssues>[0];

const schemaError = (err: unknown): Checked => ({
  ok: false,
  issues: [{ path: [], code: sc.ISSUE_SCHEMA_ERROR, message: `schema failed: ${describeError(err)}` }],
});

/**
 * A schema's answer; anything not shaped like one is a broken schema, recorded as such, and so
 * is one whose getters (or Proxy traps) throw. `success` is read once, so it cannot say one
 * thing to one check and another to the next.
 */
function interpret(result: unknown): Checked {
  try {
    const r = result as SchemaResult | null | undefined;
    if (typeof r === 'object' && r !== null) {
      const success: unknown = r.success;
      if (success === true) return { ok: true, value: (r as { data?: unknown }).data };
      const issues: unknown = success === false ? (r as { error?: { issues?: unknown } }).error?.issues : undefined;
      if (Array.isArray(issues)) return { ok: false, issues: toValidationIssues(issues as SchemaIssues) };
    }
  } catch (err) {
    return schemaError(err);
  }
  return schemaError(new TypeError('safeParse() returned something that is not a { success, data | error } result'));
}

/**
 * Validates against the tool's schema. Synchronous schemas answer at once; an asynchronous one
 * (zod throws from safeParse on async refinements; a custom schema may return a promise) has
 * the call's decision deadline.
 */
export function checkArguments(schema: ArgumentSchema, value: unknown, clock: DecisionClock): Checked | Promise<Checked> {
  let result: unknown;
  try {
    result = schema.safeParse(value);
  } catch (err) {
    try {
      if (typeof schema.safeParseAsync !== 'function') return schemaError(err);
      result = schema.safeParseAsync(value);
    } catch (inner) {
      return schemaError(inner);
    }
  }
  const then = thenOf(result);
  if (then instanceof ReadFailed) return schemaError(then.error);
  if (then === undefined) return interpret(result);
  const ms = clock.decisionMs();
  return withDeadline<unknown>(adopt(result, then), clock.remainingDecisionMs(), (why) => TIMED_OUT.get(why), clock.pending).then(
    (settled) => (settled instanceof SchemaTimeout ? schemaTimeout(ms, settled.why) : interpret(settled)),
    schemaError,
  );
}

class SchemaTimeout {
  constructor(readonly why: ExpiryReason) {}
}
const TIMED_OUT = new Map<ExpiryReason, SchemaTimeout>([
  ['deadline', new SchemaTimeout('deadline')],
  ['shutdown', new SchemaTimeout('shutdown')],
]);

function schemaTimeout(ms: number, why: ExpiryReason): Checked {
  const message =
    why === 'deadline'
      ? `schema did not settle within ${ms} ms; the call was not run`
      : 'the auditor shut down while the schema was still validating; the call was not run';
  return { ok: false, issues: [{ path: [], code: sc.ISSUE_SCHEMA_TIMEOUT, message }] };
}
