import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { AuditSpan } from '../tracing/audit-span.js';
import { AuditDeniedError, AuditUnavailableError, AuditValidationError, type ValidationIssue } from '../contract/errors.js';
import type { AuditStore } from '../identity/run-context.js';
import { newCallId } from '../identity/ids.js';
import type { PendingDecision } from '../policy/deadline.js';
import type { PolicyVerdict } from '../policy/evaluate.js';
import { EncodeReport, writeReportAttributes } from '../payload/encode-report.js';
import { describeError, toSafeJson } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';
import type { InFlightCall, InvokeEngine } from './engine.js';
import { maskedErrorType, recordException, STATUS_OK } from './exception.js';
import { maskAdapterAttributes, recordedNames, type RecordedNames } from './adapter-attributes.js';
import { correlationText } from '../identity/identity-attributes.js';
import { intentAttributes } from './intent.js';
import { recordApproval, type ApprovalRecord } from './approval.js';
import type { DecisionClock } from './validate.js';
import type { ToolDefinition } from './tool-definition.js';

/** How a call's record starts. */
export interface CallRecordInit {
  readonly engine: InvokeEngine;
  readonly def: ToolDefinition;
  readonly store: AuditStore | undefined;
  /** The caller's (framework's) call id; one is generated when absent. */
  readonly suppliedId: string | undefined;
  readonly proposed: unknown;
  /** True when the caller gave proposed arguments distinct from the call's own. */
  readonly proposedGiven: boolean;
  /** An adapter's attributes for this call (CallMeta.attributes), already filtered. */
  readonly extra: Attributes | undefined;
}

const MASKING_FAILED_JSON = JSON.stringify(sc.MASKING_FAILED_MARKER);

/** The app's active span when there is one, else the run's span: audit spans join the app's trace. */
function parentContext(store: AuditStore | undefined): Context {
  const active = context.active();
  if (store?.runContext === undefined || trace.getSpan(active) !== undefined) return active;
  return store.runContext;
}

/**
 * The record of one call: its `execute_tool` span and the attributes written onto it directly
 * (no copy per call), masked payloads, and the ways a call's record ends. Every path ends the
 * span exactly once; a record path that throws loses the record (counted), never the caller's call.
 */
export class CallRecord implements InFlightCall, DecisionClock {
  readonly engine: InvokeEngine;
  readonly def: ToolDefinition;
  readonly store: AuditStore | undefined;
  readonly suppliedId: string | undefined;
  readonly proposed: unknown;
  readonly proposedGiven: boolean;
  readonly extra: Attributes | undefined;
  readonly span: AuditSpan;
  readonly attrs: Attributes;
  readonly callId: string;
  /** The call id as recorded: a supplied id scanned by the value detectors (a generated one has nothing to hide). */
  readonly recordedCallId: string;
  /** The tool's names as recorded (gen_ai.tool.name, span names). */
  readonly names: RecordedNames;
  readonly parent: Context;
  /** What masking did to the payloads this call span records: `tooltrail.mask.*`. */
  readonly report = new EncodeReport();
  attemptsRun = 0;
  bodyStarted = false;
  /** Set when a record of this call could not be written (the record path threw). */
  recordLost = false;
  private finished = false;
  private unfinishedWritten = false;
  /** When the call's decision deadline passes (Date.now() ms), set by its first async decision. */
  private decisionEnds: number | undefined;

  constructor(init: CallRecordInit) {
    const { engine, def, store, extra } = init;
    this.engine = engine;
    this.def = def;
    this.store = store;
    this.suppliedId = init.suppliedId;
    this.proposed = init.proposed;
    this.proposedGiven = init.proposedGiven;
    const names = recordedNames(def, engine.encoder);
    this.names = names;
    // Masked once here, so the intent record copies the masked form too.
    this.extra = extra === undefined ? undefined : maskAdapterAttributes(extra, { encoder: engine.encoder, tool: def.name, masking: def.masking, report: this.report });
    this.callId = init.suppliedId ?? newCallId();
    // Supplied ids are unique per call: scanned without the scanner's memo, tallied on this call.
    this.recordedCallId =
      init.suppliedId === undefined ? this.callId : correlationText(engine.encoder, init.suppliedId, { tool: def.name, masking: def.masking, report: this.report });
    this.parent = parentContext(store);
    const run = store?.run;
    const a: Attributes = run ? Object.assign({}, engine.runAttributes(run)) : {};
    if (this.extra !== undefined) Object.assign(a, this.extra);
    a[sc.ATTR_GEN_AI_OPERATION_NAME] = sc.OPERATION_EXECUTE_TOOL;
    a[sc.ATTR_GEN_AI_TOOL_NAME] = names.name;
    a[sc.ATTR_GEN_AI_TOOL_CALL_ID] = this.recordedCallId;
    a[sc.ATTR_GEN_AI_TOOL_TYPE] = def.type;
    if (names.description !== undefined) a[sc.ATTR_GEN_AI_TOOL_DESCRIPTION] = names.description;
    this.attrs = a;
    this.span = engine.tracer.startOwned(names.spanName, SpanKind.INTERNAL, a, this.parent);
    engine.callStarted(this);
  }

  get pending(): Set<PendingDecision> {
    return this.engine.pendingDecisions;
  }

  decisionMs(): number {
    return this.def.policyTimeoutMs ?? this.engine.policyTimeoutMs;
  }

  /** One deadline for the call's schema and rules together, started by the first that is async. */
  remainingDecisionMs(): number {
    const now = Date.now();
    this.decisionEnds ??= now + this.decisionMs();
    return this.decisionEnds - now;
  }

  /** Masked JSON. Fails closed: an encoder that throws gives the marker, never the raw value. */
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

  /** Who decided or refused (an approver, a framework component): masked as the run's identity values are. */
  identityText(value: string, key: string): string {
    try {
      return this.engine.encoder.text(value, { tool: this.def.name, field: 'identity', key, masking: this.def.masking, report: this.report });
    } catch {
      return sc.MASKING_FAILED_MARKER;
    }
  }

  /** An `exception` event; `report`: the call's tally, when it goes on the call span. */
  exception(span: Span, err: unknown, report?: EncodeReport): void {
    recordException(span, this.engine.encoder, this.def.name, this.def.masking, err, report);
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
    // A call held for approval failed nothing (yet): its status stays unset.
    if (outcome !== sc.OUTCOME_PENDING_APPROVAL) this.span.setStatus(outcome === 'ok' ? STATUS_OK : { code: SpanStatusCode.ERROR, message: message ?? outcome });
    this.endSpan(this.span);
    this.engine.countOutcome(outcome);
  }

  /** Executed arguments, and the proposal beside them when they differ. */
  recordArguments(executed: unknown): void {
    // The same reference, untouched by schema or policy, cannot differ: no second encoding, and
    // no report of its own to compare (the default path: one encoding, tallied in place).
    if (executed === this.proposed && !this.proposedGiven) {
      this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = this.json(executed, 'arguments');
      this.attrs[sc.ATTR_ARGUMENTS_MUTATED] = false;
      return;
    }
    const executedReport = new EncodeReport();
    const executedJson = this.json(executed, 'arguments', executedReport);
    this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = executedJson;
    this.report.merge(executedReport);
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

  /** Ends the call as invalid (the schema, or a framework, found its arguments unusable). */
  invalidRecord(issues: ValidationIssue[], args: unknown): AuditValidationError {
    this.recordArguments(args);
    this.attrs[sc.ATTR_VALIDATION_ISSUES] = this.json(issues, 'issues');
    const error = new AuditValidationError({ tool: this.def.name, callId: this.callId, issues });
    // The message quotes the first issue, which a custom schema message may fill with the value.
    this.finish('invalid', sc.ERROR_TYPE_INVALID, this.text(error.message));
    // Strict durability: the refusal is on disk before anyone is told of it. Nothing ran, so a
    // record that cannot be made durable is the sink's loss to count, not a throw.
    this.commit();
    return error;
  }

  /**
   * Records the decision; for deny, ends the call and returns its error. `argsRecorded`: the
   * arguments are on the record already (an approval step denied), not encoded twice.
   */
  decisionRecord(verdict: PolicyVerdict, argsRecorded = false): AuditDeniedError | undefined {
    const a = this.attrs;
    a[sc.ATTR_DECISION] = verdict.kind;
    if (verdict.rule !== undefined) a[sc.ATTR_POLICY_RULE] = verdict.rule;
    if (verdict.reason !== undefined) a[sc.ATTR_POLICY_REASON] = this.text(verdict.reason);
    // The asking rule stays on the record when the approval step denies (rule tooltrail.approval).
    if (verdict.kind === 'ask' && verdict.rule !== undefined) a[sc.ATTR_APPROVAL_RULE] = verdict.rule;
    if (verdict.kind !== 'deny') return undefined;
    if (!argsRecorded) this.recordArguments(verdict.args);
    if (verdict.error !== undefined) {
      a[sc.ATTR_POLICY_ERROR] = this.text(describeError(verdict.error));
      this.exception(this.span, verdict.error, this.report);
    }
    const error = new AuditDeniedError({ tool: this.def.name, callId: this.callId, reason: verdict.reason ?? 'denied', rule: verdict.rule });
    // The message quotes the reason, which may name the value that was refused.
    this.finish('denied', sc.ERROR_TYPE_DENIED, this.text(error.message));
    this.commit(); // as for an invalid call: durable before the denial is returned
    return error;
  }

  /** An approval decision on the call span: the `tooltrail.approval` event and its summary attributes. */
  approval(approval: ApprovalRecord): void {
    recordApproval(this.span, this.attrs, approval, (t) => this.text(t), (t) => this.identityText(t, sc.ATTR_APPROVAL_BY));
  }

  /** Under strict durability: every record so far made durable; false when it could not be. */
  commit(): boolean {
    if (this.recordLost) return false;
    if (this.engine.durability !== 'strict') return true;
    try {
      return this.engine.commit();
    } catch (err) {
      this.engine.recordFailed(err);
      return false;
    }
  }

  /** Under failMode 'closed', the error refusing a call whose record cannot be kept. */
  unavailable(what: string): AuditUnavailableError | undefined {
    if (this.engine.failMode === 'open') return undefined;
    return new AuditUnavailableError(`tool call "${this.def.name}" (${this.callId}): ${what}; the call was refused`);
  }

  /**
   * The last resort of a call whose decision steps threw something no step turned into a
   * refusal (a bug, or a hostile value nothing guarded): the call is recorded as an error with
   * the exception, and released, so it neither vanishes from the trail nor holds shutdown
   * forever. Nothing when the record is already finished (a refusal's own error).
   */
  abandon(err: unknown): void {
    if (this.finished) return;
    try {
      this.exception(this.span, err, this.report);
      this.finish('error', maskedErrorType(err, (t) => this.text(t)), this.text(describeError(err)));
      this.commit();
    } catch (inner) {
      this.engine.recordFailed(inner);
    }
  }

  /** Ends a call that was refused because it could not be recorded; the body never ran. */
  refuse(error: AuditUnavailableError): never {
    this.exception(this.span, error, this.report);
    this.finish('error', 'AuditUnavailableError', error.message);
    throw error;
  }

  /** A zero-length `tool_intent` record (strict intent, or unfinished), child of the call span. */
  intentRecord(kind: string): void {
    const intent = intentAttributes(this.attrs, this.extra, kind, this.attemptsRun);
    this.endSpan(this.engine.tracer.startOwned(this.names.intentSpanName, SpanKind.INTERNAL, intent, trace.setSpan(this.parent, this.span)));
  }

  writeUnfinished(): void {
    if (this.finished || this.unfinishedWritten || !this.bodyStarted) return;
    this.unfinishedWritten = true;
    this.intentRecord(sc.RECORD_UNFINISHED);
  }
}
