import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { AuditSpan } from '../telemetry/audit-span.js';
import type { AuditTracer } from '../telemetry/audit-tracer.js';
import { AuditDeniedError, AuditUnavailableError, AuditValidationError, type ValidationIssue } from '../errors.js';
import { auditStorage, type AuditStore, type CallInfo, type RunIdentity } from '../identity/run-context.js';
import { newCallId } from '../identity/ids.js';
import { evaluatePolicy, type PolicyVerdict } from '../policy/evaluate.js';
import type { PolicyRule, ToolCall } from '../policy/decisions.js';
import type { PayloadEncoder } from '../record/payload-encoder.js';
import { EncodeReport, writeReportAttributes } from '../record/encode-report.js';
import { describeError, toSafeJson } from '../serialize/safe-json.js';
import * as sc from '../semconv.js';
import type { CallAttempts } from './call-attempts.js';
import { retryDelay, sleep } from './retry.js';
import { toValidationIssues, type CallMeta, type SchemaResult, type ToolDefinition } from './tool-definition.js';

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

async function validate(
  def: ToolDefinition,
  value: unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] }> {
  const schema = def.schema;
  if (!schema) return { ok: true, value };
  let result: SchemaResult;
  try {
    result = schema.safeParse(value);
  } catch (err) {
    // zod throws from safeParse when the schema has async refinements; anything else is a broken schema.
    try {
      if (!schema.safeParseAsync) throw err;
      result = await schema.safeParseAsync(value);
    } catch (inner) {
      return { ok: false, issues: [{ path: [], code: 'schema_error', message: `schema failed: ${describeError(inner)}` }] };
    }
  }
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: toValidationIssues(result.error.issues) };
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
 * span exactly once; the tool body runs only after validation and policy allowed it.
 *
 * Written as a class with prototype methods and few awaits: this is the hot path, and closures
 * and promise hops per call showed up as garbage-collector time in the benchmark.
 */
class Invocation {
  readonly span: AuditSpan;
  /** The span's own attribute object, written directly: no copy per call. */
  readonly attrs: Attributes;
  readonly callId: string;
  readonly parent: Context;
  attemptsRun = 0;
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
  }

  json(value: unknown, field: 'arguments' | 'proposed' | 'result' | 'issues', report: EncodeReport = this.report): string {
    return this.engine.encoder.json(value, { tool: this.def.name, field, masking: this.def.masking, report });
  }

  /** Masked text; `tally` false for text that goes only on an attempt span. */
  text(value: string, tally = true): string {
    return this.engine.encoder.text(value, { tool: this.def.name, field: 'error', masking: this.def.masking, report: tally ? this.report : undefined });
  }

  finish(outcome: sc.Outcome, errorTypeValue?: string, message?: string): void {
    const a = this.attrs;
    a[sc.ATTR_OUTCOME] = outcome;
    a[sc.ATTR_ATTEMPTS] = this.attemptsRun;
    if (errorTypeValue !== undefined) a[sc.ATTR_ERROR_TYPE] = errorTypeValue;
    writeReportAttributes(a, this.report, this.engine.encoder.masks === true);
    this.span.setStatus(outcome === 'ok' ? STATUS_OK : { code: SpanStatusCode.ERROR, message: message ?? outcome });
    this.span.end();
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
        recordException(this.span, this.engine, this.def, verdict.error, this.report);
      }
      const error = new AuditDeniedError({ tool: this.def.name, callId: this.callId, reason: verdict.reason ?? 'denied', rule: verdict.rule });
      // The message quotes the reason, which may name the value that was refused.
      this.finish('denied', sc.ERROR_TYPE_DENIED, this.text(error.message));
      throw error;
    }
    return verdict.args;
  }

  /** Strict durability: the final record is on disk before the call returns, or the call fails. */
  commitFinal(result: unknown, toolError?: unknown): void {
    if (this.engine.durability !== 'strict' || this.engine.commit()) return;
    const refused = this.unavailable('the tool ran, but its final record could not be made durable');
    if (refused) throw Object.assign(refused, { result, toolError });
  }

  startAttempt(attemptNo: number): { span: AuditSpan; store: AuditStore; ctx: Context } {
    const def = this.def;
    const withCall = trace.setSpan(this.parent, this.span);
    const span = this.engine.tracer.startOwned(
      def.attemptSpanName,
      SpanKind.INTERNAL,
      {
        [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OPERATION_EXECUTE_TOOL,
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

  /**
   * Strict durability: a zero-length `tool_intent` span holding what is about to run (tool,
   * executed arguments, identity, decision) is fsynced before the body may start.
   */
  writeIntent(): AuditUnavailableError | undefined {
    const a = this.attrs;
    const intent: Attributes = {};
    if (this.extra !== undefined) Object.assign(intent, this.extra);
    for (const key of INTENT_KEYS) if (a[key] !== undefined) intent[key] = a[key];
    intent[sc.ATTR_RECORD] = 'intent';
    const span = this.engine.tracer.startOwned(this.def.intentSpanName, SpanKind.INTERNAL, intent, trace.setSpan(this.parent, this.span));
    span.end();
    if (this.engine.commit()) return undefined;
    return this.unavailable('its record of intent could not be made durable');
  }

  unavailable(what: string): AuditUnavailableError | undefined {
    const reason = `tool call "${this.def.name}" (${this.callId}): ${what}`;
    if (this.engine.failMode === 'open') return undefined;
    return new AuditUnavailableError(`${reason}; the call was refused`);
  }

  /** Ends a call that was refused because it could not be recorded; the body never ran. */
  refuse(error: AuditUnavailableError): never {
    recordException(this.span, this.engine, this.def, error, this.report);
    this.finish('error', 'AuditUnavailableError', error.message);
    throw error;
  }

  async execute(fn: (...args: unknown[]) => unknown, thisArg: unknown, callArgs: unknown[]): Promise<unknown> {
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
      const attemptNo = previous + this.attemptsRun;
      const attempt = this.startAttempt(attemptNo);
      try {
        const result = await auditStorage.run(attempt.store, runInContext, attempt.ctx, fn, thisArg, callArgs);
        attempt.span.setStatus(STATUS_OK);
        attempt.span.end();
        if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, attemptNo);
        this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_RESULT] = this.json(result, 'result');
        this.finish('ok');
        this.commitFinal(result);
        return result;
      } catch (err) {
        const type = errorType(err);
        const message = this.text(describeError(err), false);
        recordException(attempt.span, this.engine, this.def, err);
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
          attempt.span.end();
          await sleep(delay);
          continue;
        }
        attempt.span.setStatus({ code: SpanStatusCode.ERROR, message });
        attempt.span.end();
        if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, attemptNo);
        recordException(this.span, this.engine, this.def, err, this.report);
        // Encoded again, now tallied: the status message is recorded on the call span too.
        this.finish('error', type, this.text(describeError(err)));
        this.commitFinal(undefined, err);
        throw err;
      }
    }
  }
}

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
  const store = auditStorage.getStore();
  const suppliedId = meta?.callId ?? (def.callId ? def.callId(...(args as never[])) : undefined);
  const proposedGiven = meta !== undefined && 'proposedArgs' in meta;
  const view = argumentView(args);
  const extra = meta?.attributes === undefined ? undefined : adapterAttributes(meta.attributes);
  const inv = new Invocation(engine, def, store, suppliedId, proposedGiven ? meta.proposedArgs : view, proposedGiven, extra);
  const refused = engine.refusal();
  if (refused !== undefined) {
    try {
      inv.recordArguments(view);
      inv.refuse(refused);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  if (def.schema !== undefined) return validateThenDecide(inv, fn, thisArg, args, view);
  return decideThenExecute(inv, fn, thisArg, args, view);
}

async function validateThenDecide(
  inv: Invocation,
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  view: unknown,
): Promise<unknown> {
  const checked = await validate(inv.def, view);
  if (!checked.ok) return inv.invalid(checked.issues, view);
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
  let pending: PolicyVerdict | Promise<PolicyVerdict>;
  try {
    pending = evaluatePolicy(rules, call, engine.requireIdentity);
  } catch (err) {
    return Promise.reject(err);
  }
  if (isThenable<PolicyVerdict>(pending)) return pending.then((v) => afterDecision(inv, fn, thisArg, args, v));
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
    return validate(inv.def, executed).then((again) => {
      if (!again.ok) return inv.invalid(again.issues, executed);
      inv.recordArguments(again.value);
      return inv.execute(fn, thisArg, callArguments(again.value, args));
    });
  }
  inv.recordArguments(executed);
  return inv.execute(fn, thisArg, callArguments(executed, args));
}

/** Names core writes itself: an adapter's attributes may add to a record, never stand in for core's. */
const CORE_KEYS = new Set<string>(Object.values(sc as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));
const CORE_PREFIXES = [sc.ATTR_RUN_ATTRIBUTE_PREFIX, sc.ATTR_PAYLOAD_PREFIX, 'tooltrail.mask.', 'gen_ai.tool.', 'exception.'];

function adapterAttributes(attrs: Attributes): Attributes | undefined {
  let out: Attributes | undefined;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value === undefined || value === null || CORE_KEYS.has(key) || CORE_PREFIXES.some((p) => key.startsWith(p))) continue;
    (out ??= {})[key] = value;
  }
  return out;
}
