import { context, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { AuditSpan } from '../tracing/audit-span.js';
import { auditStorage } from '../identity/run-context.js';
import { describeError } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';
import { CallRecord } from './call-record.js';
import { BodyStore } from './body-store.js';
import { maskedErrorType, STATUS_OK } from './exception.js';
import { retryDelay } from './retry.js';

export type ToolBody = (...args: unknown[]) => unknown;

function runInContext(ctx: Context, fn: ToolBody, thisArg: unknown, callArgs: unknown[]): unknown {
  return context.with(ctx, fn, thisArg, ...callArgs);
}

/** Marks a body that threw, so its error (any value, undefined included) is told apart from a result. */
const THREW: unique symbol = Symbol('threw');

/**
 * The execute step of a call: the body's attempts, each failure recorded, and the durability of
 * the final record. Written with prototype methods and few awaits: this is the hot path, and
 * closures and promise hops per call showed up as garbage-collector time.
 *
 * A call that can have one attempt only (no retry configured, not a framework re-invocation of
 * its call id) has no `tool_attempt` record: its body runs under the call span, whose record
 * already holds everything an attempt record would (docs/decisions.md). Retries and
 * re-invocations keep one `tool_attempt` record per attempt.
 */
export class Execution extends CallRecord {
  private failure: unknown;

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

  /**
   * Starts the body once under `span` (an attempt span, or the call span). Not async itself, so
   * the call pays no extra promise hop: the caller awaits the body's own promise, with only the
   * body inside its try (an error of the record path is never mistaken for the tool's, so it can
   * neither trigger a retry, running the body again, nor replace its result).
   */
  private startBody(fn: ToolBody, thisArg: unknown, callArgs: unknown[], span: AuditSpan, attemptNo: number, ctx: Context): unknown {
    this.attemptsRun++;
    this.bodyStarted = true;
    return auditStorage.run(new BodyStore(this.store, this.def.name, this.callId, attemptNo, span), runInContext, ctx, fn, thisArg, callArgs);
  }

  private startAttempt(attemptNo: number, withCall: Context): AuditSpan {
    // The names as recorded (masked once per tool), as on the call record.
    return this.engine.tracer.startOwned(
      this.names.attemptSpanName,
      SpanKind.INTERNAL,
      {
        // No gen_ai.operation.name: an attempt is tooltrail's own span, not a GenAI operation,
        // so a GenAI-aware backend counts each call once (its execute_tool span).
        [sc.ATTR_GEN_AI_TOOL_NAME]: this.names.name,
        [sc.ATTR_GEN_AI_TOOL_CALL_ID]: this.recordedCallId,
        [sc.ATTR_ATTEMPT]: attemptNo,
      },
      withCall,
    );
  }

  private succeeded(result: unknown): unknown {
    this.attrs[sc.ATTR_GEN_AI_TOOL_CALL_RESULT] = this.json(result, 'result');
    this.finish('ok');
    this.afterRecord(result);
    return result;
  }

  private failed(err: unknown): never {
    this.exception(this.span, err, this.report);
    this.finish('error', maskedErrorType(err, (t) => this.text(t)), this.text(describeError(err)));
    this.afterRecord(undefined, err);
    throw err;
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
    const withCall = trace.setSpan(this.parent, this.span);
    if (this.def.retry.attempts === 1 && previous === 0) {
      let result: unknown;
      try {
        result = await this.startBody(fn, thisArg, callArgs, this.span, 1, withCall);
      } catch (err) {
        this.failure = err;
        result = THREW;
      }
      if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, 1);
      return result === THREW ? this.failed(this.failure) : this.succeeded(result);
    }
    return this.attempts(fn, thisArg, callArgs, attemptKey, previous, withCall);
  }

  /** One `tool_attempt` record per attempt: retries, and a framework re-invoking a call id. */
  private async attempts(fn: ToolBody, thisArg: unknown, callArgs: unknown[], attemptKey: string | undefined, previous: number, withCall: Context): Promise<unknown> {
    const policy = this.def.retry;
    for (;;) {
      const attemptNo = previous + this.attemptsRun + 1;
      const span = this.startAttempt(attemptNo, withCall);
      let result: unknown;
      try {
        result = await this.startBody(fn, thisArg, callArgs, span, attemptNo, trace.setSpan(withCall, span));
      } catch (err) {
        this.failure = err;
        result = THREW;
      }
      if (result !== THREW) {
        span.setStatus(STATUS_OK);
        this.endSpan(span);
        if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, attemptNo);
        return this.succeeded(result);
      }
      const err = this.failure;
      const message = this.text(describeError(err), false);
      this.exception(span, err);
      span.setAttribute(sc.ATTR_ERROR_TYPE, maskedErrorType(err, (t) => this.text(t, false)));
      span.setStatus({ code: SpanStatusCode.ERROR, message });
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
        span.setAttribute(sc.ATTR_RETRY_DELAY_MS, delay);
        this.endSpan(span);
        // Shutdown cuts a back-off short, and no attempt starts once it stopped waiting: the call
        // then ends with this failure, recorded, rather than run a body nobody would record.
        if ((await this.engine.backoff(delay)) && this.engine.bodyGate() === undefined) continue;
        this.attrs[sc.ATTR_RETRY_CANCELLED] = true;
      } else {
        this.endSpan(span);
      }
      if (attemptKey !== undefined) this.engine.attempts.record(attemptKey, attemptNo);
      return this.failed(err);
    }
  }
}
