import type { Attributes } from '@opentelemetry/api';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import { DEFAULT_POLICY_TIMEOUT_MS, validateOptions, type AuditorOptions } from './config.js';
import { resourceAttributesFromEnv, serviceNameFromEnv, warnAboutTracingToggles } from './otel-env.js';
import { AuditConfigError, AuditUnavailableError } from '../contract/errors.js';
import type { IntegrityChain } from '../integrity/chain.js';
import type { Durability, FailMode } from '../export/durable-sink.js';
import { registerAuditorExitHooks, type ExitParticipant } from '../export/process-hooks.js';
import { consoleLogger, type AuditLogger } from '../contract/logger.js';
import type { RunIdentity, RunIdentityInput } from '../identity/run-context.js';
import { MAX_TIMER_MS } from '../contract/option-keys.js';
import type { PendingDecision } from '../policy/deadline.js';
import type { PolicyRule } from '../policy/decisions.js';
import { plainEncoder, type PayloadEncoder } from '../payload/payload-encoder.js';
import { createMaskingEncoder, MaskingEncoder } from '../payload/masking/encoder.js';
import type * as sc from '../contract/semconv.js';
import { describeError } from '../payload/safe-json.js';
import type { RefusedCall } from '../contract/refusal.js';
import { CallAttempts } from '../call/call-attempts.js';
import { invokeAudited, recordRefusedCall, type InFlightCall, type InvokeEngine } from '../call/invoke.js';
import { defineTool, type CallMeta, type ToolDefinition, type ToolFunction, type ToolOptions } from '../call/tool-definition.js';
import type { RefusedCallInput } from '../call/refused.js';
import { checkPendingInput, type ApprovalHandler, type PendingApprovalInput, type PreviewDecision } from '../call/approval-handler.js';
import { recordPendingCall } from '../call/pending-record.js';
import { checkEventInput, recordAuditEvent, type AuditEventInput } from '../call/event-record.js';
import { previewCall } from '../call/preview.js';
import type { EnginePolicyFile, HeldPending } from '../call/engine.js';
import type { FilePolicyStatus } from '../policy/file/file-policy.js';
import { PolicyWiring } from './policy-wiring.js';
import type { AuditedFunction, AuditedTools, Auditor, AuditStats, AuditToolsOptions } from './types.js';
import { AUDITOR_BRAND } from './brand.js';
import { auditRegistry, makeAudited } from './wrap.js';
import { buildRecordPath, exitHookSettings, type ExitCapableSink } from './record-path.js';
import { AuditCounters } from './counters.js';
import { CallBook } from './call-book.js';
import { RunSpans } from './runs.js';
import { privateRunTokenKey } from '../identity/run-token-keys.js';
import { DEFAULT_RUN_TOKEN_TTL_MS } from '../identity/run-token.js';
import { argumentsKeyFor, type ArgumentsKey } from '../call/args-binding.js';

export type { AuditedFunction, AuditedTools, Auditor, AuditStats, AuditToolsOptions } from './types.js';
export { auditRegistry, makeAudited, type AuditorResolver } from './wrap.js';

/** Masking is on unless turned off; a custom encoder replaces it, so both at once is a mistake. */
function chooseEncoder(options: AuditorOptions): PayloadEncoder {
  if (options.encoder !== undefined) {
    if (options.masking !== undefined) {
      throw new AuditConfigError('give either masking options or a custom encoder, not both: the encoder replaces the masking layer');
    }
    return options.encoder;
  }
  if (options.masking === false) return plainEncoder;
  return createMaskingEncoder(options.masking, { logger: options.logger ?? consoleLogger });
}

function checkTimeout(what: string, ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0) || ms > MAX_TIMER_MS) {
    throw new AuditConfigError(`${what}(timeoutMs): timeoutMs must be a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
  }
}

/**
 * The auditor: the facade an app holds, and the engine every call borrows (InvokeEngine). Its
 * parts each do one job: the record path (record-path.ts), the calls in flight and the gates
 * shutdown closes (call-book.ts), runs (runs.ts), counters (counters.ts).
 */
export class AuditorImpl implements Auditor, InvokeEngine, ExitParticipant {
  /** Recognised by every build of core: setDefaultAuditor and adapters take an auditor from either. */
  readonly [AUDITOR_BRAND] = true;
  readonly serviceName: string;
  readonly destination: string;
  readonly tracer: AuditTracer;
  readonly encoder: PayloadEncoder;
  readonly argsKey: ArgumentsKey;
  readonly policy: readonly PolicyRule[];
  readonly requireIdentity: boolean;
  readonly attempts = new CallAttempts();
  readonly durability: Durability;
  readonly failMode: FailMode;
  readonly policyTimeoutMs: number;
  readonly pendingDecisions = new Set<PendingDecision>();
  readonly policyFile: EnginePolicyFile | undefined;
  readonly approvalHandler: ApprovalHandler | undefined;
  readonly approvalTimeoutMs: number;
  private readonly wiring: PolicyWiring;
  /** Tools wrapped or previewed here, by name: a pending record is masked with its tool's options. */
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly sink: ExitCapableSink;
  readonly logger: AuditLogger;
  private readonly masker: MaskingEncoder | undefined;
  private readonly chain: IntegrityChain | undefined;
  private readonly counters: AuditCounters;
  private readonly book: CallBook;
  private readonly runs: RunSpans;
  private readonly unhook: () => void;
  private shutdownPromise: Promise<boolean> | undefined;

  constructor(options: AuditorOptions, env: Record<string, string | undefined> = process.env) {
    validateOptions(options);
    const logger = (this.logger = options.logger ?? consoleLogger);
    // The OpenTelemetry environment (otel-env.ts): options beat variables.
    const envResource = resourceAttributesFromEnv(env, logger);
    const serviceName = options.serviceName?.trim() || serviceNameFromEnv(env, envResource);
    if (serviceName === undefined) {
      throw new AuditConfigError(
        'no service name: give createAuditor() a serviceName, or set OTEL_SERVICE_NAME (the audit spans\' service.name, which also names the spool folder)',
      );
    }
    this.serviceName = options.serviceName ?? serviceName;
    warnAboutTracingToggles(env, logger);
    this.encoder = chooseEncoder(options);
    // After the encoder: its key (and its one warning about a missing key) come first.
    this.argsKey = argumentsKeyFor(options.masking, options.encoder !== undefined);
    this.masker = this.encoder instanceof MaskingEncoder ? this.encoder : undefined;
    this.policy = Object.freeze([...(options.policy ?? [])]);
    this.requireIdentity = options.requireIdentity ?? true;
    this.policyTimeoutMs = options.policyTimeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
    this.durability = options.durability ?? 'buffered';
    this.failMode = options.failMode ?? (this.durability === 'strict' ? 'closed' : 'open');
    const counters = (this.counters = new AuditCounters(logger));
    this.book = new CallBook(this.serviceName);
    const hooks = exitHookSettings(options);
    // Before anything is opened: a bad key leaves nothing behind.
    const runTokens = options.runTokenKey === undefined
      ? undefined
      : { key: privateRunTokenKey(options.runTokenKey, true), ttlMs: options.runTokenExpiresInMs ?? DEFAULT_RUN_TOKEN_TTL_MS };
    // Before the record path exists: a bad policy file leaves nothing behind.
    const wiring = (this.wiring = new PolicyWiring(options, logger));
    this.policyFile = wiring.file;
    this.approvalHandler = wiring.handler;
    this.approvalTimeoutMs = wiring.timeoutMs;
    let path: ReturnType<typeof buildRecordPath>;
    try {
      path = this.buildPath(options, envResource, env);
    } catch (err) {
      wiring.close();
      throw err;
    }
    this.destination = path.destination;
    this.sink = path.sink;
    this.tracer = path.tracer;
    this.chain = path.chain;
    this.runs = new RunSpans(this.tracer, this.encoder, options.runSpans ?? true, (err) => counters.recordFailed(err), runTokens);
    this.unhook = hooks.enabled ? registerAuditorExitHooks(this, hooks.signalFlushMs) : () => undefined;
  }

  private buildPath(options: AuditorOptions, envResource: Record<string, string>, env: Record<string, string | undefined>): ReturnType<typeof buildRecordPath> {
    const counters = this.counters;
    return buildRecordPath(options, {
      serviceName: this.serviceName,
      durability: this.durability,
      failMode: this.failMode,
      logger: this.logger,
      envResource,
      env,
      recordFailed: (err) => counters.recordFailed(err),
      late: (span) => counters.late(span),
    });
  }

  /** The integrity stream id of this auditor's records, or undefined with integrity off. */
  get streamId(): string | undefined {
    return this.chain?.streamId;
  }

  get isShutdown(): boolean {
    return this.book.closing;
  }

  invoke(def: ToolDefinition, fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown> {
    if (this.book.closing) return Promise.reject(this.book.shutDownError(def.name));
    return invokeAudited(this, def, fn, thisArg, args, meta);
  }

  recordRefused(def: ToolDefinition, input: RefusedCallInput): RefusedCall {
    return recordRefusedCall(this, def, input);
  }

  preview(def: ToolDefinition, args: unknown, callId: string | undefined): Promise<PreviewDecision> {
    if (this.book.closing) return Promise.reject(this.book.shutDownError(def.name));
    this.tools.set(def.name, def);
    return previewCall(this, def, args, callId);
  }

  recordPendingApproval(tool: string, input: PendingApprovalInput): void {
    checkPendingInput(tool, input);
    if (this.book.closing) throw this.book.shutDownError(tool);
    const def = this.tools.get(tool) ?? defineTool(function pending() {}, { name: tool });
    this.wiring.hold(recordPendingCall(this, def, input));
  }

  recordEvent(input: AuditEventInput): boolean {
    checkEventInput(input);
    if (this.book.closing) throw this.book.shutDownError(input.tool ?? input.kind);
    return recordAuditEvent(this, input);
  }

  takePending(callId: string): HeldPending | undefined {
    return this.wiring.take(callId);
  }

  policyStatus(): FilePolicyStatus | undefined {
    return this.wiring.status();
  }

  // ---- what calls borrow (InvokeEngine) ----------------------------------------------------

  runAttributes(run: RunIdentity): Attributes {
    return this.runs.attributes(run);
  }

  countOutcome(outcome: sc.Outcome): void {
    this.counters.countOutcome(outcome);
  }

  refusal(): AuditUnavailableError | undefined {
    if (this.failMode !== 'closed' || this.sink.canRecord === undefined || this.sink.canRecord()) return undefined;
    return new AuditUnavailableError(this.sink.unavailableReason?.() ?? 'the audit trail cannot take records');
  }

  commit(): boolean {
    if (this.durability !== 'strict' || this.sink.commit === undefined) return true;
    // Once the sink is closing nothing more is promised durable, whatever it would answer.
    if (this.book.sinkClosing) return false;
    return this.sink.commit();
  }

  callStarted(call: InFlightCall): void {
    this.book.started(call);
  }

  callSettled(call: InFlightCall): void {
    this.book.settled(call);
  }

  bodyGate(): AuditUnavailableError | undefined {
    return this.book.bodyGate();
  }

  backoff(ms: number): Promise<boolean> {
    return this.book.backoff(ms);
  }

  recordFailed(err: unknown): void {
    this.counters.recordFailed(err);
  }

  // ---- wrapping and runs -------------------------------------------------------------------

  withAudit<F extends ToolFunction>(fn: F, options?: ToolOptions<F>): AuditedFunction<F> {
    const def = defineTool(fn, options as ToolOptions | undefined);
    this.tools.set(def.name, def);
    return makeAudited(() => this, fn, def);
  }

  auditTools<T extends object>(tools: T, options?: AuditToolsOptions): AuditedTools<T> {
    return auditRegistry(tools, options, (fn, opts) => this.withAudit(fn, opts));
  }

  run<R>(identity: RunIdentityInput, fn: () => R): Promise<Awaited<R>> {
    return this.runs.run(identity, fn, this.book.closing);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async flush(timeoutMs = 30_000): Promise<boolean> {
    checkTimeout('flush', timeoutMs);
    // A record lost before it reached the sink is a loss the sink cannot see: false, like its own.
    const delivered = await this.sink.flush(timeoutMs);
    return delivered && this.counters.clean;
  }

  shutdown(timeoutMs = 30_000): Promise<boolean> {
    if (this.shutdownPromise) return this.shutdownPromise;
    try {
      checkTimeout('shutdown', timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    this.book.close();
    this.shutdownPromise = this.stop(timeoutMs);
    return this.shutdownPromise;
  }

  /** Records what is still open: calls whose body runs (as unfinished) and runs (ended now). */
  private recordUnfinished(): number {
    const unfinished = this.book.recordUnfinished();
    this.counters.unfinishedCalls += unfinished;
    this.runs.endUnfinished();
    return unfinished;
  }

  private async stop(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Calls in flight get half the deadline to finish; delivery keeps the rest.
    await this.book.drain(Math.floor(timeoutMs / 2));
    this.book.bodiesClosed = true;
    this.wiring.close();
    // A rule or schema still deciding: the call is denied (or invalid) and recorded now.
    for (const pending of [...this.pendingDecisions]) pending.expire('shutdown');
    // Let every settled decision run to its record (or its refusal) before the stream ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const unfinished = this.recordUnfinished();
    // The final checkpoint comes after the last record, so a verifier sees the stream ended.
    this.chain?.end();
    this.book.sinkClosing = true;
    let delivered: boolean;
    try {
      delivered = await this.sink.shutdown(Math.max(0, deadline - Date.now()));
    } catch (err) {
      this.logger.warn(`the audit sink failed to shut down: ${describeError(err)}`);
      delivered = false;
    }
    this.unhook();
    return delivered && unfinished === 0 && this.counters.clean;
  }

  /** At process exit (synchronous): unfinished calls and runs recorded, stream ended, all spilled. */
  finishForExit(): void {
    if (!this.book.sinkClosing) {
      this.book.closing = true;
      this.book.bodiesClosed = true;
      this.recordUnfinished();
      this.chain?.end();
      this.book.sinkClosing = true;
    }
    // Also mid-shutdown (a second signal): whatever the sink still holds in memory goes to the spool.
    try {
      this.sink.spillForExit?.();
    } catch (err) {
      this.logger.warn(`audit records could not be spilled at exit: ${describeError(err)}`);
    }
  }

  stats(): AuditStats {
    return this.counters.stats(this.sink.stats(), this.masker?.failures ?? 0, this.wiring.reloadFailures);
  }
}
