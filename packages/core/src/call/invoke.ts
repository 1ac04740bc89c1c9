import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { AuditSpan } from '../tracing/audit-span.js';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import { AuditDeniedError, AuditUnavailableError, AuditValidationError, type ValidationIssue } from '../contract/errors.js';
import { auditStorage, type AuditStore, type CallInfo, type RunIdentity } from '../identity/run-context.js';
import { newCallId } from '../identity/ids.js';
import { evaluatePolicy, timeoutVerdict, type PolicyProgress, type PolicyVerdict } from '../policy/evaluate.js';
import { withDeadline, type ExpiryReason, type PendingDecision } from '../policy/deadline.js';
import type { PolicyRule, ToolCall } from '../policy/decisions.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import { EncodeReport, writeReportAttributes } from '../payload/encode-report.js';
import { describeError, toSafeJson } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';
import type { CallAttempts } from './call-attempts.js';
import { retryDelay } from './retry.js';
import { toValidationIssues, type CallMeta, type SchemaResult, type ToolDefinition } from './tool-definition.js';
import { recordApproval, rejectionReason, type ApprovalRecord } from './approval.js';
import type { RefusedCallInput } from './refused.js';
import type { RefusedCall } from '../contract/refusal.js';

/** What one auditor lends every call it records. */
export interface InvokeEngine {
  readonly tracer: AuditTracer;
  readonly encoder: PayloadEncoder;
  readonly policy: readonly PolicyRule[];
  readonly requireIdentity: boolean;
  readonly attempts: CallAttempts;
  /** Identity attributes of a run, computed (and masked) once per run. */
  runAttributes(run: RunIdentity): Attributes;
  countOutcome(outcome: sc.Outcome): void;
  readonly durability: 'buffered' | 'strict';
  readonly failMode: 'open' | 'closed';
  /** Under failMode 'closed': the error to refuse a call with, when records cannot be kept. */
  refusal(): AuditUnavailableError | undefined;
  /** Under strict durability: makes every record so far durable; false when it cannot. */
  commit(): boolean;
  /** The auditor's deadline for schema and policy decisions (a tool may set its own). */
  readonly policyTimeoutMs: number;
  /** Decisions still pending, so shutdown can decide them at once. */
  readonly pendingDecisions: Set<PendingDecision>;
  /** Book-keeping of calls between their start and their record (shutdown waits for them). */
  callStarted(call: InFlightCall): void;
  callSettled(call: InFlightCall): void;
  /** Undefined while tool bodies may start; once shutdown has finished waiting, the refusal. */
  bodyGate(): AuditUnavailableError | undefined;
  /** A retry back-off; resolves false when shutdown cut it short (no further attempt then). */
  backoff(ms: number): Promise<boolean>;
  /** A record could not be written (the record path threw): counted and warned about. */
  recordFailed(err: unknown): void;
}

/** What the auditor can do with a call still in flight when it shuts down or the process exits. */
export interface InFlightCall {
  /** True once a body attempt started (and the call has no final record yet). */
  readonly bodyStarted: boolean;
  /** Writes a `tool_intent` record with `tooltrail.record = unfinished`: the body ran, its end is unknown. */
  writeUnfinished(): void;
}

/** The tool's arguments as one value: the first argument for the usual one-argument tool. */
function argumentView(args: readonly unknown[]): unknown {
  return args.length <= 1 ? args[0] : args;
}

/** The inverse of argumentView, for arguments replaced by the schema or a rewrite. */
function callArguments(view: unknown, original: readonly unknown[]): unknown[] {
  if (original.length > 1) return Array.isArray(view) ? view : [view];
  if (original.length === 0 && view === undefined) return [];
  return [view];
}

/** The app's active span when there is one, else the run's span: audit spans join the app's trace. */
function parentContext(store: AuditStore | undefined): Context {
  const active = context.active();
  if (store?.runContext === undefined || trace.getSpan(active) !== undefined) return active;
  return store.runContext;
}

/** `error.type`: the class of what was thrown, `_OTHER` for non-Error throws. */
export function errorType(err: unknown): string {
  if (err instanceof Error) {
    const ctorName = err.constructor?.name;
    return ctorName && ctorName !== 'Object' ? ctorName : err.name || 'Error';
  }
  return sc.ERROR_TYPE_OTHER;
}

function isThenable<T>(v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

type Checked = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

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
function validate(inv: Invocation, value: unknown): Checked | Promise<Checked> {
  const schema = inv.def.schema;
  if (!schema) return { ok: true, value };
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
  const ms = inv.decisionMs();
  return withDeadline<unknown>(result, inv.remainingDecisionMs(), (why) => TIMED_OUT.get(why), inv.engine.pendingDecisions).then(
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

/** `report`: the call's tally, when the event goes on the call span (not on an attempt span). */
function recordException(span: Span, engine: InvokeEngine, def: ToolDefinition, err: unknown, report?: EncodeReport): void {
  const ctx = { tool: def.name, field: 'error', masking: def.masking, report } as const;
  const attrs: Attributes = {
    'exception.type': errorType(err),
    'exception.message': engine.encoder.text(describeError(err), ctx),
  };
  if (err instanceof Error && typeof err.stack === 'string') {
    attrs['exception.stacktrace'] = engine.encoder.text(err.stack, ctx);
  }
  span.addEvent('exception', attrs);
}

/**
 * One audited invocation: validate, decide, execute with retries, record. Every path ends the
 * span exactly once; the tool body runs only after validation and policy allowed it, and only
 * while its record can still be written (not once the auditor's shutdown stopped waiting).
 *
 * Written as a class with prototype methods and few awaits: this is the hot path, and closures
 * and promise hops per call showed up as garbage-collector time in the benchmark.
 */
class Invocation implements InFlightCall {
  readonly span: AuditSpan;
  /** The span's own attribute object, written directly: no copy per call. */
  readonly attrs: Attributes;
  readonly callId: string;
  readonly parent: Context;
  attemptsRun = 0;
  bodyStarted = false;
  /** Set when a record of this call could not be written (the record path threw). */
  recordLost = false;
  private finished = false;
  private unfinishedWritten = false;
  /** When the call's decision deadline passes (Date.now() ms), set by its first async decision. */
  private decisionEnds: number | undefined;
  /** What masking did to the payloads this call span records: `tooltrail.mask.*`. */
  readonly report = new EncodeReport();

  constructor(
    readonly engine: InvokeEngine,
    readonly def: ToolDefinition,
    readonly store: AuditStore | undefined,
    readonly suppliedId: string | undefined,
    readonly proposed: unknown,
    /** True when the caller gave proposed arguments distinct from the call's own. */
    readonly proposedGiven: boolean,
    /** An adapter's attributes for this call (CallMeta.attributes), already filtered. */
    readonly extra: Attributes | undefined,
  ) {
    this.callId = suppliedId ?? newCallId();
    this.parent = parentContext(store);
    const run = store?.run;
    const a: Attributes = run ? Object.assign({}, engine.runAttributes(run)) : {};
    if (extra !== undefined) Object.assign(a, extra);
    a[sc.ATTR_GEN_AI_OPERATION_NAME] = sc.OPERATION_EXECUTE_TOOL;
    a[sc.ATTR_GEN_AI_TOOL_NAME] = def.name;
    a[sc.ATTR_GEN_AI_TOOL_CALL_ID] = this.callId;
    a[sc.ATTR_GEN_AI_TOOL_TYPE] = def.type;
    if (def.description !== undefined) a[sc.ATTR_GEN_AI_TOOL_DESCRIPTION] = def.description;
    this.attrs = a;
    this.span = engine.tracer.startOwned(def.spanName, SpanKind.INTERNAL, a, this.parent);
    engine.callStarted(this);
  }

  /** The decision deadline of this call (its tool's, else the auditor's). */
  decisionMs(): number {
    return this.def.policyTimeoutMs ?? this.engine.policyTimeoutMs;
  }

  /** One deadline for the call's schema and rules together, started by the first that is async. */
  remainingDecisionMs(): number {
    const now = Date.now();
    this.decisionEnds ??= now + this.decisionMs();
    return this.decisionEnds - now;
  }

  /**
   * Masked JSON. Fails closed: an encoder that throws (a custom one) gives the marker, never the
   * raw value, and never an exception out of the record path.
   */
  json(value: unknown, field: 'arguments' | 'proposed' | 'result' | 'issues', report: EncodeReport = this.report): string {
    try {
      return this.engine.encoder.json(value, { tool: this.def.name, field, masking: this.def.masking, report });
    } catch {
      return MASKING_FAILED_JSON;
    }
  }

  /** Masked text; `tally` false for text that goes only on an attempt span. */
  text(value: string, tally = true): string {
    try {
      return this.engine.encoder.text(value, { tool: this.def.name, field: 'error', masking: this.def.masking, report: tally ? this.report : undefined });
    } catch {
      return sc.MASKING_FAILED_MARKER;
    }
  }

  /** Ends a span; a record path that throws loses the record, which is counted, never thrown at the caller. */
  endSpan(span: AuditSpan): void {
    try {
      span.end();
    } catch (err) {
      this.recordLost = true;
      this.engine.recordFailed(err);
    }
  }

  finish(outcome: sc.Outcome, errorTypeValue?: string, message?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.engine.callSettled(this);
    const a = this.attrs;
    a[sc.ATTR_OUTCOME] = outcome;
    a[sc.ATTR_ATTEMPTS] = this.attemptsRun;
    if (errorTypeValue !== undefined) a[sc.ATTR_ERROR_TYPE] = errorTypeValue;
    try {
      writeReportAttributes(a, this.report, this.engine.encoder.masks === true);
    } catch {
      // the tally is a summary; the payloads themselves are already masked
    }
    this.span.setStatus(outcome === 'ok' ? STATUS_OK : { code: SpanStatusCode.ERROR, message: message ?? outcome });
    this.endSpan(this.span);
    this.engine.countOutcome(outcome);
  }

  /** Executed arguments, and the proposal beside them when they differ. */
  recordArguments(executed: unknown): void {
    const executedReport = new EncodeReport();
    const executedJson = this.json(executed, 'arguments', executedReport);
    this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = executedJson;
    this.report.merge(executedReport);
    // The same reference, untouched by schema or policy, cannot differ: skip a second encoding.
    if (executed === this.proposed && !this.proposedGiven) {
      this.attrs[sc.ATTR_ARGUMENTS_MUTATED] = false;
      return;
    }
    // The proposal is tallied only if it is recorded, i.e. when it differs.
    const proposedReport = new EncodeReport();
    const proposedJson = this.json(this.proposed, 'proposed', proposedReport);
    let mutated = executedJson !== proposedJson;
    // `[REDACTED:password]` is the same text for two passwords: when a lossy token was written,
    // equal encodings prove nothing and the raw values decide.
    if (!mutated && (executedReport.lossy || proposedReport.lossy)) mutated = toSafeJson(executed) !== toSafeJson(this.proposed);
    this.attrs[sc.ATTR_ARGUMENTS_MUTATED] = mutated;
    if (mutated) {
      this.attrs[sc.ATTR_ARGUMENTS_PROPOSED] = proposedJson;
      this.report.merge(proposedReport);
    }
  }

  invalid(issues: ValidationIssue[], args: unknown): never {
    this.recordArguments(args);
    this.attrs[sc.ATTR_VALIDATION_ISSUES] = this.json(issues, 'issues');
    const error = new AuditValidationError({ tool: this.def.name, callId: this.callId, issues });
    // The message quotes the first issue, which a custom schema message may fill with the value.
    this.finish('invalid', sc.ERROR_TYPE_INVALID, this.text(error.message));
    throw error;
  }

  /** Applies the verdict; returns the arguments that execute. Throws for deny. */
  decided(verdict: PolicyVerdict): unknown {
    const a = this.attrs;
    a[sc.ATTR_DECISION] = verdict.kind;
    if (verdict.rule !== undefined) a[sc.ATTR_POLICY_RULE] = verdict.rule;
    if (verdict.reason !== undefined) a[sc.ATTR_POLICY_REASON] = this.text(verdict.reason);
    if (verdict.kind === 'deny') {
      this.recordArguments(verdict.args);
      if (verdict.error !== undefined) {
        a[sc.ATTR_POLICY_ERROR] = this.text(describeError(verdict.error));
        this.exception(this.span, verdict.error, this.report);
      }
      const error = new AuditDeniedError({ tool: this.def.name, callId: this.callId, reason: verdict.reason ?? 'denied', rule: verdict.rule });
      // The message quotes the reason, which may name the value that was refused.
      this.finish('denied', sc.ERROR_TYPE_DENIED, this.text(error.message));
      throw error;
    }
    return verdict.args;
  }

  /** An `exception` event; `report`: the call's tally, when it goes on the call span. */
  exception(span: Span, err: unknown, report?: EncodeReport): void {
    try {
      recordException(span, this.engine, this.def, err, report);
    } catch {
      span.addEvent('exception', { 'exception.type': errorType(err), 'exception.message': sc.MASKING_FAILED_MARKER });
    }
  }

  /**
   * After the final record: under strict durability it must be on disk before the call returns,
   * and under failMode 'closed' a record that could not be written at all fails the call too
   * (the tool ran: its result or error rides on the AuditUnavailableError).
   */
  afterRecord(result: unknown, toolError?: unknown): void {
    let durable = !this.recordLost;
    if (durable && this.engine.durability === 'strict') {
      try {
        durable = this.engine.commit();
      } catch (err) {
        this.engine.recordFailed(err);
        durable = false;
      }
    }
    if (durable) return;
    const refused = this.unavailable(
      this.recordLost ? 'the tool ran, but its final record could not be written' : 'the tool ran, but its final record could not be made durable',
    );
    if (refused) throw Object.assign(refused, { result, toolError });
  }

  startAttempt(attemptNo: number): { span: AuditSpan; store: AuditStore; ctx: Context } {
    const def = this.def;
    const withCall = trace.setSpan(this.parent, this.span);
    const span = this.engine.tracer.startOwned(
      def.attemptSpanName,
      SpanKind.INTERNAL,
      {
        // No gen_ai.operation.name: an attempt is tooltrail's own span, not a GenAI operation,
        // so a GenAI-aware backend counts each call once (its execute_tool span).
        [sc.ATTR_GEN_AI_TOOL_NAME]: def.name,
        [sc.ATTR_GEN_AI_TOOL_CALL_ID]: this.callId,
        [sc.ATTR_ATTEMPT]: attemptNo,
      },
      withCall,
    );
    const sctx = span.spanContext();
    const run = this.store?.run;
    const call: CallInfo = {
      tool: def.name,
      callId: this.callId,
      attempt: attemptNo,
      traceId: sctx.traceId,
      spanId: sctx.spanId,
      traceparent: `00-${sctx.traceId}-${sctx.spanId}-0${sctx.traceFlags.toString(16)}`,
      run,
    };
    return { span, store: { run, runSpan: this.store?.runSpan, runContext: this.store?.runContext, call }, ctx: trace.setSpan(withCall, span) };
  }

  /** A zero-length `tool_intent` span holding what runs (tool, executed arguments, identity, decision). */
  private intentRecord(kind: string): void {
    const a = this.attrs;
    const intent: Attributes = {};
    if (this.extra !== undefined) Object.assign(intent, this.extra);
    for (const key of INTENT_KEYS) if (a[key] !== undefined) intent[key] = a[key];
    intent[sc.ATTR_RECORD] = kind;
    if (kind === sc.RECORD_UNFINISHED) intent[sc.ATTR_ATTEMPTS] = this.attemptsRun;
    this.endSpan(this.engine.tracer.startOwned(this.def.intentSpanName, SpanKind.INTERNAL, intent, trace.setSpan(this.parent, this.span)));
  }

  /** Strict durability: the intent record is fsynced before the body may start. */
  writeIntent(): AuditUnavailableError | undefined {
    this.intentRecord(sc.RECORD_INTENT);
    let durable = !this.recordLost;
    try {
      durable &&= this.engine.commit();
    } catch (err) {
      this.engine.recordFailed(err);
      durable = false;
    }
    if (durable) return undefined;
    return this.unavailable('its record of intent could not be made durable');
  }

  writeUnfinished(): void {
    if (this.finished || this.unfinishedWritten || !this.bodyStarted) return;
    this.unfinishedWritten = true;
    this.intentRecord(sc.RECORD_UNFINISHED);
  }

  unavailable(what: string): AuditUnavailableError | undefined {
    const reason = `tool call "${this.def.name}" (${this.callId}): ${what}`;
    if (this.engine.failMode === 'open') return undefined;
    return new AuditUnavailableError(`${reason}; the call was refused`);
  }

  /** Ends a call that was refused because it could not be recorded; the body never ran. */
  refuse(error: AuditUnavailableError): never {
    this.exception(this.span, error, this.report);
    this.finish('error', 'AuditUnavailableError', error.message);
    throw error;
  }

  /** An approval decision on the call span: the `tooltrail.approval` event and its summary attributes. */
  approval(approval: ApprovalRecord): void {
    recordApproval(this.span, this.attrs, approval, (t) => this.text(t));
  }

  /** Records a call a framework refused before any body ran; returns (never throws) its refusal. */
  refused(input: RefusedCallInput): RefusedCall {
    const a = this.attrs;
    if (input.approval !== undefined) this.approval(input.approval);
    if (input.by !== undefined) a[sc.ATTR_REFUSED_BY] = input.by;
    a[sc.ATTR_REFUSED_REASON] = this.text(input.reason);
    this.recordArguments(input.args);
    let error: RefusedCall;
    if (input.kind === 'invalid') {
      const issues = input.issues ?? [{ path: [], code: sc.ISSUE_FRAMEWORK_INVALID, message: input.reason }];
      a[sc.ATTR_VALIDATION_ISSUES] = this.json(issues, 'issues');
      error = new AuditValidationError({ tool: this.def.name, callId: this.callId, issues });
      this.finish('invalid', sc.ERROR_TYPE_INVALID, this.text(error.message));
    } else {
      const rule = input.approval?.decision === sc.APPROVAL_REJECTED ? sc.RULE_APPROVAL : sc.RULE_FRAMEWORK;
      a[sc.ATTR_DECISION] = 'deny';
      a[sc.ATTR_POLICY_RULE] = rule;
      a[sc.ATTR_POLICY_REASON] = a[sc.ATTR_REFUSED_REASON];
      error = new AuditDeniedError({ tool: this.def.name, callId: this.callId, reason: input.reason, rule });
      this.finish('denied', sc.ERROR_TYPE_DENIED, this.text(error.message));
    }
    // Strict durability: the refusal is on disk before the adapter tells the model about it.
    // Nothing ran, so a record that cannot be made durable is the sink's loss to count, not a throw.
    if (this.engine.durability === 'strict') {
      try {
        this.engine.commit();
      } catch (err) {
        this.engine.recordFailed(err);
      }
    }
    return error;
  }

  async execute(fn: (...args: unknown[]) => unknown, thisArg: unknown, callArgs: unknown[]): Promise<unknown> {
    const closed = this.engine.bodyGate();
    if (closed) this.refuse(closed);
    if (this.engine.durability === 'strict') {
      const refused = this.writeIntent();
      if (refused) this.refuse(refused);
    }
    // Attempts are counted per run and call id: a provider that reuses short ids ("0", "1") in
    // another run must not look like a retry.
    // Only caller-supplied ids can repeat; generated ones need no key and no lookup.
    const attemptKey = this.suppliedId !== undefined ? `${this.store?.run?.runId ?? ''}\u0000${this.callId}` : undefined;
    const previous = attemptKey !== undefined ? this.engine.attempts.previous(attemptKey) : 0;
    const policy = this.def.retry;
    for (;;) {
      this.attemptsRun++;
      this.bodyStarted = true;
      const attemptNo = previous + this.attemptsRun;
      const attempt = this.startAttempt(attemptNo);
      // Only the body is inside the try: an error of the record path is never mistaken for the
      // tool's, so it can neither trigger a retry (running the body again) nor replace its result.
      let result: unknown;
      let failure: { err: unknown } | undefined;
      try {
        result = await auditStorage.run(attempt.store, runInContext, attempt.ctx, fn, thisArg, callArgs);
      } catch (err) {
        failure = { err };
      }
      if (failure === undefined) {
        attempt.span.setStatus(STATUS_OK);
        this.endSpan(attempt.span);
        if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, attemptNo);
        this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_RESULT] = this.json(result, 'result');
        this.finish('ok');
        this.afterRecord(result);
        return result;
      }
      const err = failure.err;
      const type = errorType(err);
      const message = this.text(describeError(err), false);
      this.exception(attempt.span, err);
      attempt.span.setAttribute(sc.ATTR_ERROR_TYPE, type);
      let again = false;
      if (this.attemptsRun < policy.attempts) {
        try {
          again = policy.retryOn(err, attemptNo) === true;
        } catch {
          again = false; // a broken predicate must not turn one failure into an endless loop
        }
      }
      if (again) {
        const delay = retryDelay(policy, this.attemptsRun + 1);
        attempt.span.setAttribute(sc.ATTR_RETRY_DELAY_MS, delay);
        attempt.span.setStatus({ code: SpanStatusCode.ERROR, message });
        this.endSpan(attempt.span);
        // Shutdown cuts a back-off short, and no attempt starts once it stopped waiting: the call
        // then ends with this failure, recorded, rather than run a body nobody would record.
        if ((await this.engine.backoff(delay)) && this.engine.bodyGate() === undefined) continue;
        this.attrs[sc.ATTR_RETRY_CANCELLED] = true;
      } else {
        attempt.span.setStatus({ code: SpanStatusCode.ERROR, message });
        this.endSpan(attempt.span);
      }
      if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, attemptNo);
      this.exception(this.span, err, this.report);
      // Encoded again, now tallied: the status message is recorded on the call span too.
      this.finish('error', type, this.text(describeError(err)));
      this.afterRecord(undefined, err);
      throw err;
    }
  }
}

const MASKING_FAILED_JSON = JSON.stringify(sc.MASKING_FAILED_MARKER);

const STATUS_OK = Object.freeze({ code: SpanStatusCode.OK });

/** What the strict-mode intent record copies from the call span. */
const INTENT_KEYS = [
  sc.ATTR_RUN_ID,
  sc.ATTR_RUN_PARENT_ID,
  sc.ATTR_USER_ID,
  sc.ATTR_PRINCIPAL_TYPE,
  sc.ATTR_GEN_AI_AGENT_NAME,
  sc.ATTR_GEN_AI_AGENT_ID,
  sc.ATTR_GEN_AI_CONVERSATION_ID,
  sc.ATTR_GEN_AI_OPERATION_NAME,
  sc.ATTR_GEN_AI_TOOL_NAME,
  sc.ATTR_GEN_AI_TOOL_CALL_ID,
  sc.ATTR_GEN_AI_TOOL_TYPE,
  sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  sc.ATTR_ARGUMENTS_PROPOSED,
  sc.ATTR_ARGUMENTS_MUTATED,
  sc.ATTR_DECISION,
  sc.ATTR_POLICY_RULE,
  sc.ATTR_POLICY_REASON,
] as const;

function runInContext(ctx: Context, fn: (...args: unknown[]) => unknown, thisArg: unknown, callArgs: unknown[]): unknown {
  return context.with(ctx, fn, thisArg, ...callArgs);
}

export function invokeAudited(
  engine: InvokeEngine,
  def: ToolDefinition,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  meta: CallMeta | undefined,
): Promise<unknown> {
  let inv: Invocation;
  let view: unknown;
  try {
    const store = auditStorage.getStore();
    const suppliedId = meta?.callId ?? (def.callId ? def.callId(...(args as never[])) : undefined);
    const proposedGiven = meta !== undefined && 'proposedArgs' in meta;
    view = argumentView(args);
    const extra = meta?.attributes === undefined ? undefined : adapterAttributes(meta.attributes);
    inv = new Invocation(engine, def, store, suppliedId, proposedGiven ? meta.proposedArgs : view, proposedGiven, extra);
  } catch (err) {
    // Nothing ran and nothing was recorded; the wrapped call still only ever returns a promise.
    return Promise.reject(err);
  }
  try {
    const refused = engine.refusal();
    if (refused !== undefined) {
      inv.recordArguments(view);
      inv.refuse(refused);
    }
    const approval = meta?.approval;
    if (approval !== undefined) {
      inv.approval(approval);
      // A rejection is a denial like policy's (same record, same error), decided before the
      // schema runs: nothing about the arguments can overturn it.
      if (approval.decision === sc.APPROVAL_REJECTED) {
        inv.decided({ kind: 'deny', args: view, rule: sc.RULE_APPROVAL, reason: rejectionReason(approval), error: undefined });
      }
    }
    if (def.schema !== undefined) {
      const checked = validate(inv, view);
      if (!isThenable<Checked>(checked)) return afterValidation(inv, fn, thisArg, args, checked);
      return checked.then((c) => afterValidation(inv, fn, thisArg, args, c));
    }
    return decideThenExecute(inv, fn, thisArg, args, view);
  } catch (err) {
    return Promise.reject(err);
  }
}

function afterValidation(
  inv: Invocation,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  checked: Checked,
): Promise<unknown> {
  if (!checked.ok) return inv.invalid(checked.issues, argumentView(args));
  return decideThenExecute(inv, fn, thisArg, args, checked.value);
}

function decideThenExecute(
  inv: Invocation,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  validated: unknown,
): Promise<unknown> {
  const engine = inv.engine;
  const def = inv.def;
  const call: ToolCall = { tool: def.name, args: validated, proposedArgs: inv.proposed, callId: inv.callId, run: inv.store?.run };
  const rules = def.policy.length === 0 ? engine.policy : [...engine.policy, ...def.policy];
  const progress: PolicyProgress = { rule: undefined, args: validated };
  let pending: PolicyVerdict | Promise<PolicyVerdict>;
  try {
    pending = evaluatePolicy(rules, call, engine.requireIdentity, progress);
  } catch (err) {
    return Promise.reject(err);
  }
  if (isThenable<PolicyVerdict>(pending)) {
    const ms = inv.decisionMs();
    return withDeadline(pending, inv.remainingDecisionMs(), (why) => timeoutVerdict(progress, ms, why), engine.pendingDecisions).then((v) =>
      afterDecision(inv, fn, thisArg, args, v),
    );
  }
  try {
    return afterDecision(inv, fn, thisArg, args, pending);
  } catch (err) {
    return Promise.reject(err);
  }
}

function afterDecision(
  inv: Invocation,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  verdict: PolicyVerdict,
): Promise<unknown> {
  const executed = inv.decided(verdict);
  if (verdict.kind === 'rewrite' && inv.def.schema !== undefined) {
    // A rewrite must still satisfy the tool's schema: policy cannot smuggle in what validation rejects.
    const again = validate(inv, executed);
    const go = (checked: Checked): Promise<unknown> => {
      if (!checked.ok) return inv.invalid(checked.issues, executed);
      inv.recordArguments(checked.value);
      return inv.execute(fn, thisArg, callArguments(checked.value, args));
    };
    return isThenable<Checked>(again) ? again.then(go) : go(again);
  }
  inv.recordArguments(executed);
  return inv.execute(fn, thisArg, callArguments(executed, args));
}

/** Names core writes itself: an adapter's attributes may add to a record, never stand in for core's. */
const CORE_KEYS = new Set<string>(Object.values(sc as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));
const CORE_PREFIXES = [sc.ATTR_RUN_ATTRIBUTE_PREFIX, sc.ATTR_PAYLOAD_PREFIX, 'tooltrail.mask.', 'gen_ai.tool.', 'exception.'];

/** An OpenTelemetry attribute value: a primitive, or an array of primitives. */
function isAttributeValue(v: unknown): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(v))) return true;
  return Array.isArray(v) && v.every((x) => x === null || x === undefined || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)));
}

function adapterAttributes(attrs: Attributes): Attributes | undefined {
  let out: Attributes | undefined;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    // A value a span cannot hold (a bigint, an object from plain JS) would break the record itself.
    if (!isAttributeValue(value) || CORE_KEYS.has(key) || CORE_PREFIXES.some((p) => key.startsWith(p))) continue;
    (out ??= {})[key] = value;
  }
  return out;
}

/** Writes the record of a call a framework refused before any body ran (AuditedFunction.recordRefused). */
export function recordRefusedCall(engine: InvokeEngine, def: ToolDefinition, input: RefusedCallInput): RefusedCall {
  const extra = input.attributes === undefined ? undefined : adapterAttributes(input.attributes);
  const inv = new Invocation(engine, def, auditStorage.getStore(), input.callId, input.args, false, extra);
  return inv.refused(input);
}
