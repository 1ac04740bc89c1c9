import { context, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { AuditSpan } from '../tracing/audit-span.js';
import { auditStorage, type AuditStore, type CallInfo } from '../identity/run-context.js';
import { describeError } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';
import { CallRecord } from './call-record.js';
import { errorType, STATUS_OK } from './exception.js';
import { retryDelay } from './retry.js';

export type ToolBody = (...args: unknown[]) => unknown;

/** Where one attempt of the body runs: its span (if it has one), the store and context it sees. */
interface AttemptScope {
  readonly span: AuditSpan;
  readonly store: AuditStore;
  readonly ctx: Context;
}

function runInContext(ctx: Context, fn: ToolBody, thisArg: unknown, callArgs: unknown[]): unknown {
  return context.with(ctx, fn, thisArg, ...callArgs);
}

/**
 * The execute step of a call: the body's attempts (with retries), each failure recorded, and the
 * durability of the final record. Written with prototype methods and few awaits: this is the hot
 * path, and closures and promise hops per call showed up as garbage-collector time.
 */
export class Execution extends CallRecord {
  /**
   * After the final record: under strict durability it must be on disk before the call returns,
   * and under failMode 'closed' a record that could not be written at all fails the call too
   * (the tool ran: its result or error rides on the AuditUnavailableError).
   */
  afterRecord(result: unknown, toolError?: unknown): void {
    if (this.commit()) return;
    const refused = this.unavailable(
      this.recordLost ? 'the tool ran, but its final record could not be written' : 'the tool ran, but its final record could not be made durable',
    );
    if (refused) throw Object.assign(refused, { result, toolError });
  }

  /** Strict durability: the intent record is fsynced before the body may start. */
  private writeIntent(): void {
    this.intentRecord(sc.RECORD_INTENT);
    if (this.commit()) return;
    const refused = this.unavailable('its record of intent could not be made durable');
    if (refused) this.refuse(refused);
  }

  private startAttempt(attemptNo: number): AttemptScope {
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

  async execute(fn: ToolBody, thisArg: unknown, callArgs: unknown[]): Promise<unknown> {
    const closed = this.engine.bodyGate();
    if (closed) this.refuse(closed);
    if (this.engine.durability === 'strict') this.writeIntent();
    // Attempts are counted per run and call id: a provider that reuses short ids ("0", "1") in
    // another run must not look like a retry. Only caller-supplied ids can repeat; generated
    // ones need no key and no lookup.
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
