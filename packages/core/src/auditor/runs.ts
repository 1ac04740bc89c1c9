import type { KeyObject } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import * as sc from '../contract/semconv.js';
import { newRunId } from '../identity/ids.js';
import { auditStorage, freezeIdentity, type AuditStore, type RunIdentity, type RunIdentityInput } from '../identity/run-context.js';
import { checkIdentity, identityAttributes } from '../identity/identity-attributes.js';
import { registerRunTokenSource } from '../identity/run-token-source.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import { describeError } from '../payload/safe-json.js';
import { maskedErrorType, recordException } from '../call/exception.js';

/** Audited runs: the identity store every call inside sees, and the run's `invoke_agent` span. */
export class RunSpans {
  /** Run spans not ended yet: shutdown ends them as unfinished rather than lose them. */
  private readonly open = new Set<Span>();
  private readonly attrCache = new WeakMap<RunIdentity, Attributes>();

  constructor(
    private readonly tracer: AuditTracer,
    private readonly encoder: PayloadEncoder,
    /** Whether runs get a span at all (`runSpans` option). */
    private readonly enabled: boolean,
    private readonly recordFailed: (err: unknown) => void,
    /** The `runTokenKey` option, loaded: runs get a run token (minted when first asked for). */
    private readonly runTokens?: { readonly key: KeyObject; readonly ttlMs: number },
  ) {}

  /** Identity attributes of a run, computed (and masked) once per run. */
  attributes(run: RunIdentity): Attributes {
    let attrs = this.attrCache.get(run);
    if (!attrs) {
      attrs = identityAttributes(run, this.encoder);
      this.attrCache.set(run, attrs);
    }
    return attrs;
  }

  /** `closing`: after shutdown began a run span could not be recorded; the run's calls are refused anyway. */
  async run<R>(identity: RunIdentityInput, fn: () => R, closing: boolean): Promise<Awaited<R>> {
    checkIdentity(identity);
    const outer = auditStorage.getStore();
    const run = freezeIdentity(identity, identity.runId ?? newRunId(), outer?.run?.runId);
    if (this.runTokens !== undefined) registerRunTokenSource(run, this.runTokens.key, this.runTokens.ttlMs);
    if (!this.enabled || closing) {
      const store: AuditStore = { run, runSpan: undefined, runContext: undefined, call: undefined };
      return auditStorage.run(store, async (): Promise<Awaited<R>> => await fn());
    }
    const active = context.active();
    const parent = trace.getSpan(active) !== undefined || !outer?.runContext ? active : outer.runContext;
    const attrs = this.attributes(run);
    // The agent name as recorded (scanned like every correlation value), not as given.
    const agentName = attrs[sc.ATTR_GEN_AI_AGENT_NAME];
    const runSpan = this.tracer.startSpan(
      sc.agentSpanName(typeof agentName === 'string' ? agentName : undefined),
      { kind: SpanKind.INTERNAL, attributes: { ...attrs, [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OPERATION_INVOKE_AGENT } },
      parent,
    );
    const runContext = trace.setSpan(parent, runSpan);
    const store: AuditStore = { run, runSpan, runContext, call: undefined };
    this.open.add(runSpan);
    try {
      const result = await auditStorage.run(store, () => context.with(runContext, async (): Promise<Awaited<R>> => await fn()));
      runSpan.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      runSpan.setAttribute(sc.ATTR_ERROR_TYPE, maskedErrorType(err, (t) => this.encoder.text(t, { tool: '', field: 'error' })));
      let message: string;
      try {
        message = this.encoder.text(describeError(err), { tool: '', field: 'error' });
      } catch {
        message = sc.MASKING_FAILED_MARKER;
      }
      runSpan.setStatus({ code: SpanStatusCode.ERROR, message });
      // What the run threw, masked, with its causes: forensic detail as on a call record.
      recordException(runSpan, this.encoder, '', undefined, err);
      throw err;
    } finally {
      this.open.delete(runSpan);
      this.endSpan(runSpan);
    }
  }

  /** At shutdown or exit: runs still going are ended now, marked unfinished. */
  endUnfinished(): void {
    for (const runSpan of this.open) {
      runSpan.setAttribute(sc.ATTR_RUN_UNFINISHED, true);
      runSpan.setStatus({ code: SpanStatusCode.ERROR, message: 'the run was still going when the auditor shut down' });
      this.endSpan(runSpan);
    }
    this.open.clear();
  }

  private endSpan(span: Span): void {
    try {
      span.end();
    } catch (err) {
      this.recordFailed(err);
    }
  }
}
