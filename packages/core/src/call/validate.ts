import type { ValidationIssue } from '../contract/errors.js';
import { withDeadline, type ExpiryReason, type PendingDecision } from '../policy/deadline.js';
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

export function isThenable<T>(v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const schemaError = (err: unknown): Checked => ({
  ok: false,
  issues: [{ path: [], code: sc.ISSUE_SCHEMA_ERROR, message: `schema failed: ${describeError(err)}` }],
});

/** A schema's answer; anything not shaped like one is a broken schema, recorded as such. */
function interpret(result: unknown): Checked {
  const r = result as SchemaResult | null | undefined;
  if (typeof r === 'object' && r !== null && r.success === true) return { ok: true, value: r.data };
  if (typeof r === 'object' && r !== null && r.success === false && Array.isArray(r.error?.issues)) {
    try {
      return { ok: false, issues: toValidationIssues(r.error.issues) };
    } catch (err) {
      return schemaError(err);
    }
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
    if (typeof schema.safeParseAsync !== 'function') return schemaError(err);
    try {
      result = schema.safeParseAsync(value);
    } catch (inner) {
      return schemaError(inner);
    }
  }
  if (!isThenable<unknown>(result)) return interpret(result);
  const ms = clock.decisionMs();
  return withDeadline<unknown>(result, clock.remainingDecisionMs(), (why) => TIMED_OUT.get(why), clock.pending).then(
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
