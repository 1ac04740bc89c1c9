import type { Context, Span, SpanContext } from '@opentelemetry/api';
import type { AuditStore, CallInfo, RunIdentity } from '../identity/run-context.js';

/**
 * What a tool body sees through currentRun() and currentCall(): the run's store, plus the call.
 * The CallInfo (and its traceparent string) is built only when the body asks for it: most bodies
 * never do, and it was an object and a string per call on the default path.
 */
export class BodyStore implements AuditStore {
  readonly run: RunIdentity | undefined;
  readonly runSpan: Span | undefined;
  readonly runContext: Context | undefined;
  private info: CallInfo | undefined;

  constructor(
    outer: AuditStore | undefined,
    private readonly tool: string,
    private readonly callId: string,
    private readonly attempt: number,
    /** The span the body runs under: its attempt span, or the call span when it has none. */
    private readonly span: { spanContext(): SpanContext },
  ) {
    this.run = outer?.run;
    this.runSpan = outer?.runSpan;
    this.runContext = outer?.runContext;
  }

  get call(): CallInfo {
    if (this.info !== undefined) return this.info;
    const sctx = this.span.spanContext();
    this.info = Object.freeze({
      tool: this.tool,
      callId: this.callId,
      attempt: this.attempt,
      traceId: sctx.traceId,
      spanId: sctx.spanId,
      traceparent: `00-${sctx.traceId}-${sctx.spanId}-0${sctx.traceFlags.toString(16)}`,
      run: this.run,
    });
    return this.info;
  }
}
