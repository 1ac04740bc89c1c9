import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import { DEFAULT_POLICY_TIMEOUT_MS, resolveTracesUrl, validateOptions, type AuditorOptions } from './config.js';
import {
  resolveCompression,
  resolveHeaders,
  resolveProtocol,
  resolveTimeoutMs,
  resourceAttributesFromEnv,
  serviceNameFromEnv,
  warnAboutTracingToggles,
} from './otel-env.js';
import { detectedResourceAttributes } from '../tracing/resource.js';
import { AuditConfigError, AuditUnavailableError, SHUT_DOWN_CODE } from '../contract/errors.js';
import { RecordPipeline } from '../export/record-pipeline.js';
import type { RecordStage } from '../contract/record-sink.js';
import { createIntegrityChain } from '../integrity/options.js';
import type { IntegrityChain } from '../integrity/chain.js';
import { advanceLineage } from '../integrity/lineage.js';
import { BatchingSink } from '../export/batching-sink.js';
import { DurableSink, type Durability, type FailMode } from '../export/durable-sink.js';
import { registerAuditorExitHooks, type ExitParticipant } from '../export/process-hooks.js';
import { spoolLocation } from '../export/spool-location.js';
import { consoleLogger, type AuditLogger } from '../contract/logger.js';
import type { RecordSink, SinkStats } from '../contract/record-sink.js';
import { newRunId } from '../identity/ids.js';
import {
  auditStorage,
  freezeIdentity,
  type AuditStore,
  type RunIdentity,
  type RunIdentityInput,
} from '../identity/run-context.js';
import { checkKeys, MAX_TIMER_MS } from '../contract/option-keys.js';
import type { PendingDecision } from '../policy/deadline.js';
import type { PolicyRule } from '../policy/decisions.js';
import { plainEncoder, type PayloadEncoder } from '../payload/payload-encoder.js';
import { createMaskingEncoder, MaskingEncoder } from '../payload/masking/encoder.js';
import * as sc from '../contract/semconv.js';
import { AuditTracerProvider } from '../tracing/audit-tracer.js';
import type { SpanSink } from '../tracing/audit-span.js';
import { CallAttempts } from '../call/call-attempts.js';
import { errorType, invokeAudited, recordRefusedCall, type InFlightCall, type InvokeEngine } from '../call/invoke.js';
import {
  CALL_META_KEYS,
  defineTool,
  TOOL_OPTION_KEYS,
  type CallMeta,
  type ToolDefinition,
  type ToolFunction,
  type ToolOptions,
} from '../call/tool-definition.js';
import { describeError } from '../payload/safe-json.js';
import type { AuditedFunction, AuditedTools, Auditor, AuditStats, AuditToolsOptions } from './types.js';
import { AUDITOR_BRAND } from './brand.js';
import { checkApproval } from '../call/approval.js';
import { checkRefusedInput, type RefusedCallInput } from '../call/refused.js';
import type { RefusedCall } from '../contract/refusal.js';

export type { AuditedFunction, AuditedTools, Auditor, AuditStats, AuditToolsOptions } from './types.js';

/** How a wrapper finds its auditor: fixed, or the process default looked up at call time. */
export type AuditorResolver = () => AuditorImpl;

export function makeAudited<F extends ToolFunction>(
  resolve: AuditorResolver,
  fn: F,
  def: ToolDefinition,
): AuditedFunction<F> {
  const target = fn as unknown as (...args: unknown[]) => unknown;
  const invoke = (thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown> => {
    let auditor: AuditorImpl;
    try {
      if (meta !== undefined) checkMeta(def.name, meta);
      auditor = resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    return auditor.invoke(def, target, thisArg, args, meta);
  };
  const audited = function (this: unknown, ...args: unknown[]) {
    return invoke(this, args, undefined);
  } as unknown as AuditedFunction<F>;
  Object.defineProperties(audited, {
    name: { value: def.name, configurable: true },
    length: { value: fn.length, configurable: true },
    toolName: { value: def.name, enumerable: true },
    original: { value: fn },
    invokeWith: {
      value: (meta: CallMeta & { thisArg?: unknown }, ...args: unknown[]) => invoke(meta.thisArg, args, meta),
    },
    recordRefused: {
      value: (input: RefusedCallInput): RefusedCall => {
        checkRefusedInput(def.name, input);
        return resolve().recordRefused(def, input);
      },
    },
  });
  return audited;
}

function checkMeta(tool: string, meta: unknown): void {
  if (typeof meta !== 'object' || meta === null) throw new AuditConfigError(`tool "${tool}": invokeWith() needs an options object first`);
  const issues: string[] = [];
  checkKeys(meta, CALL_META_KEYS, '', issues);
  const approval = (meta as CallMeta).approval;
  if (approval !== undefined) checkApproval(approval, 'approval', issues);
  if (issues.length > 0) throw new AuditConfigError(`tool "${tool}": invalid invokeWith() options; the call was not run`, issues);
}

const AUDIT_TOOLS_KEYS: readonly string[] = [...TOOL_OPTION_KEYS.filter((k) => k !== 'name' && k !== 'description' && k !== 'callId'), 'tools'];

export function auditRegistry<T extends object>(
  tools: T,
  options: AuditToolsOptions | undefined,
  wrap: <F extends ToolFunction>(fn: F, opts: ToolOptions<F>) => AuditedFunction<F>,
): AuditedTools<T> {
  if (typeof tools !== 'object' || tools === null) {
    throw new AuditConfigError('auditTools() needs an object whose properties are tool functions');
  }
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) throw new AuditConfigError('auditTools() options must be an object');
    const issues: string[] = [];
    checkKeys(options, AUDIT_TOOLS_KEYS, '', issues);
    const names = Object.keys(tools).filter((k) => typeof (tools as Record<string, unknown>)[k] === 'function');
    if (options.tools !== undefined) {
      if (typeof options.tools !== 'object' || options.tools === null) issues.push('tools must be an object of per-tool options');
      // A per-tool entry for a key that is not a tool would configure nothing.
      else checkKeys(options.tools, names, 'tools.', issues);
    }
    if (issues.length > 0) throw new AuditConfigError('invalid auditTools() options', issues);
  }
  const { tools: perTool, ...common } = options ?? {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(tools)) {
    const value = (tools as Record<string, unknown>)[key];
    if (typeof value !== 'function') {
      out[key] = value;
      continue;
    }
    const own = perTool?.[key];
    // Bound to the registry so tools written as methods keep their `this`.
    const bound = (value as ToolFunction).bind(tools) as ToolFunction;
    // The tool's own options are checked under their own path, so a typo names `tools.<key>.<option>`.
    if (own !== undefined) defineTool(bound, { ...own, name: own.name ?? key }, `tools.${key}.`);
    out[key] = wrap(bound, {
      ...common,
      ...own,
      name: own?.name ?? key,
      policy: [...(common.policy ?? []), ...(own?.policy ?? [])],
    });
  }
  return out as AuditedTools<T>;
}

/**
 * Identity attributes can hold personal data (an email as principal id), so they are masked.
 * Run ids, agent names/ids and the principal type are not: they are our correlation keys and
 * configuration, and masking them would break joining the trail.
 */
function identityAttributes(run: RunIdentity, encoder: PayloadEncoder): Attributes {
  // Fails closed like every payload: an encoder that throws gives the marker, never the value.
  const text = (v: string, key?: string): string => {
    try {
      return encoder.text(v, { tool: '', field: 'identity', key });
    } catch {
      return sc.MASKING_FAILED_MARKER;
    }
  };
  const attrs: Attributes = {};
  for (const [k, v] of Object.entries(run.attributes)) {
    let value = v;
    if (typeof v === 'string') value = text(v, k);
    else if (typeof v === 'number') {
      // A number under a secret key name (`pin`, `cvv`) is masked like a string; others stay numbers.
      const masked = text(String(v), k);
      if (masked !== String(v)) value = masked;
    }
    attrs[`${sc.ATTR_RUN_ATTRIBUTE_PREFIX}${k}`] = value;
  }
  attrs[sc.ATTR_RUN_ID] = run.runId;
  if (run.parentRunId !== undefined) attrs[sc.ATTR_RUN_PARENT_ID] = run.parentRunId;
  attrs[sc.ATTR_USER_ID] = text(run.principal.id);
  if (run.principal.type !== undefined) attrs[sc.ATTR_PRINCIPAL_TYPE] = run.principal.type;
  if (run.agent?.name !== undefined) attrs[sc.ATTR_GEN_AI_AGENT_NAME] = run.agent.name;
  if (run.agent?.id !== undefined) attrs[sc.ATTR_GEN_AI_AGENT_ID] = run.agent.id;
  if (run.conversationId !== undefined) attrs[sc.ATTR_GEN_AI_CONVERSATION_ID] = text(run.conversationId);
  return attrs;
}

const IDENTITY_KEYS: readonly string[] = ['principal', 'agent', 'conversationId', 'runId', 'attributes'];
const PRINCIPAL_KEYS: readonly string[] = ['id', 'type'];
const AGENT_KEYS: readonly string[] = ['name', 'id'];

function checkIdentity(input: RunIdentityInput): void {
  const issues: string[] = [];
  if (typeof input !== 'object' || input === null) issues.push('identity must be an object');
  else {
    checkKeys(input, IDENTITY_KEYS, '', issues);
    if (typeof input.principal === 'object' && input.principal !== null) checkKeys(input.principal, PRINCIPAL_KEYS, 'principal.', issues);
    if (input.agent !== undefined) {
      if (typeof input.agent !== 'object' || input.agent === null) issues.push('agent, when given, must be an object');
      else checkKeys(input.agent, AGENT_KEYS, 'agent.', issues);
    }
    if (input.attributes !== undefined) {
      if (typeof input.attributes !== 'object' || input.attributes === null) issues.push('attributes, when given, must be an object of strings, numbers and booleans');
      else {
        for (const [k, v] of Object.entries(input.attributes)) {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') issues.push(`attributes.${k} must be a string, a number or a boolean`);
        }
      }
    }
    const p = input.principal as unknown;
    if (typeof p !== 'object' || p === null || typeof (p as { id?: unknown }).id !== 'string' || (p as { id: string }).id.trim() === '') {
      issues.push('principal.id must be a non-empty string (who this run acts for)');
    }
    if (input.runId !== undefined && (typeof input.runId !== 'string' || input.runId.trim() === '')) {
      issues.push('runId, when given, must be a non-empty string');
    }
  }
  if (issues.length > 0) throw new AuditConfigError('invalid run identity', issues);
}

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

/** Whether an export option asks for the process exit hooks (`export.handleProcessExit`, default true). */
function exitHookSettings(options: AuditorOptions): { enabled: boolean; signalFlushMs: number } {
  const o = options.export as { handleProcessExit?: boolean; signalFlushMs?: number } | undefined;
  return { enabled: options.exporter === undefined && o?.handleProcessExit !== false, signalFlushMs: o?.signalFlushMs ?? 2_000 };
}

/** The sink methods the exit path uses (Contract A); optional so any RecordSink fits. */
type ExitCapableSink = RecordSink & { seal?(): void; spillForExit?(): void };

function checkTimeout(what: string, ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0) || ms > MAX_TIMER_MS) {
    throw new AuditConfigError(`${what}(timeoutMs): timeoutMs must be a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
  }
}

export class AuditorImpl implements Auditor, InvokeEngine, ExitParticipant {
  /** Recognised by every build of core: setDefaultAuditor and adapters take an auditor from either. */
  readonly [AUDITOR_BRAND] = true;
  readonly serviceName: string;
  readonly destination: string;
  readonly tracer: AuditTracer;
  readonly encoder: PayloadEncoder;
  readonly policy: readonly PolicyRule[];
  readonly requireIdentity: boolean;
  readonly attempts = new CallAttempts();
  readonly durability: Durability;
  readonly failMode: FailMode;
  readonly policyTimeoutMs: number;
  readonly pendingDecisions = new Set<PendingDecision>();
  private readonly sink: ExitCapableSink;
  private readonly logger: AuditLogger;
  private readonly runSpans: boolean;
  private readonly runAttrCache = new WeakMap<RunIdentity, Attributes>();
  private readonly outcomes = { ok: 0, error: 0, denied: 0, invalid: 0 };
  private readonly masker: MaskingEncoder | undefined;
  private readonly chain: IntegrityChain | undefined;
  /** Calls between their start and their record. */
  private readonly inFlight = new Set<InFlightCall>();
  /** Run spans not ended yet: shutdown ends them as unfinished rather than lose them. */
  private readonly openRuns = new Set<Span>();
  /** Retry back-offs in progress: shutdown cuts them short. */
  private readonly backoffs = new Set<() => void>();
  private readonly unhook: () => void;
  /** Shutdown began: new calls are refused. */
  private closing = false;
  /** Shutdown stopped waiting: no tool body may start any more. */
  private bodiesClosed = false;
  /** The sink was told to shut down: nothing can be made durable any more. */
  private sinkClosing = false;
  private shutdownPromise: Promise<boolean> | undefined;
  private drained: (() => void) | undefined;
  private recordErrors = 0;
  private unfinishedCalls = 0;
  private lateRecords = 0;
  private lastRecordWarning = 0;

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
    this.masker = this.encoder instanceof MaskingEncoder ? this.encoder : undefined;
    this.policy = Object.freeze([...(options.policy ?? [])]);
    this.requireIdentity = options.requireIdentity ?? true;
    this.runSpans = options.runSpans ?? true;
    this.policyTimeoutMs = options.policyTimeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
    this.durability = options.durability ?? 'buffered';
    this.failMode = options.failMode ?? (this.durability === 'strict' ? 'closed' : 'open');
    // The chain first: it checks its keys, and nothing else should exist when that throws.
    this.chain = createIntegrityChain(options.integrity);
    const hooks = exitHookSettings(options);
    const spoolDir = options.spoolDir ?? (options.export as { spoolDir?: string } | undefined)?.spoolDir;
    if (options.exporter) {
      this.destination = 'custom exporter';
      this.sink = new BatchingSink(options.exporter, logger, options.exportQueue);
    } else {
      const url = resolveTracesUrl(options.endpoint, env);
      const headers = resolveHeaders(options.headers, env);
      const protocol = resolveProtocol(options.protocol, env);
      const compression = resolveCompression(options.compression, env);
      const timeoutMs = resolveTimeoutMs(options.export?.timeoutMs, env);
      this.destination = url;
      // The auditor owns the exit path (process-hooks.ts): the sink must not flush on a signal
      // by itself, before the stream's final checkpoint exists.
      this.sink = new DurableSink(
        this.serviceName,
        url,
        headers,
        this.durability,
        this.failMode,
        logger,
        { ...options.export, ...(timeoutMs !== undefined ? { timeoutMs } : {}), spoolDir, handleProcessExit: false },
        { protocol, compression },
      );
    }
    const stages: RecordStage[] = this.chain ? [this.chain] : [];
    const pipeline = new RecordPipeline(this.sink, stages);
    const chain = this.chain;
    // A checkpoint made due by a record is written once that record is in the sink; if writing
    // it fails, that is the checkpoint's loss, not the record's (which is already stored).
    const afterRecord = (): void => {
      try {
        chain?.afterRecord();
      } catch (err) {
        this.recordFailed(err);
      }
    };
    const onEnd: SpanSink = chain
      ? {
          onEnd: (span: ReadableSpan) => {
            if (chain.isEnded) return this.late(span);
            pipeline.onEnd(span);
            afterRecord();
          },
        }
      : pipeline;
    // Detected, then OTEL_RESOURCE_ATTRIBUTES, then the options' resourceAttributes; service.name last.
    const provider = new AuditTracerProvider(this.serviceName, onEnd, {
      ...detectedResourceAttributes(VERSION),
      ...envResource,
      ...options.resourceAttributes,
    });
    this.tracer = provider.getTracer(sc.TRACER_NAME, VERSION);
    if (chain) {
      chain.attach(this.tracer);
      const integrity = options.integrity === false ? undefined : options.integrity;
      const lineageFile = integrity?.lineageFile ?? (options.exporter ? undefined : spoolLocation(this.serviceName, spoolDir).lineageFile);
      const startedAt = new Date().toISOString();
      chain.start(advanceLineage(lineageFile, chain.streamId, startedAt, logger), startedAt);
    }
    this.unhook = hooks.enabled ? registerAuditorExitHooks(this, hooks.signalFlushMs) : () => undefined;
  }

  /** The integrity stream id of this auditor's records, or undefined with integrity off. */
  get streamId(): string | undefined {
    return this.chain?.streamId;
  }

  get isShutdown(): boolean {
    return this.closing;
  }

  runAttributes(run: RunIdentity): Attributes {
    let attrs = this.runAttrCache.get(run);
    if (!attrs) {
      attrs = identityAttributes(run, this.encoder);
      this.runAttrCache.set(run, attrs);
    }
    return attrs;
  }

  private shutDownError(tool: string): AuditUnavailableError {
    return new AuditUnavailableError(
      `auditor "${this.serviceName}" is shut down; tool "${tool}" was not run because it could not be recorded`,
      { code: SHUT_DOWN_CODE },
    );
  }

  invoke(def: ToolDefinition, fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown> {
    if (this.closing) return Promise.reject(this.shutDownError(def.name));
    return invokeAudited(this, def, fn, thisArg, args, meta);
  }

  recordRefused(def: ToolDefinition, input: RefusedCallInput): RefusedCall {
    return recordRefusedCall(this, def, input);
  }

  // ---- what calls borrow (InvokeEngine) ----------------------------------------------------

  countOutcome(outcome: sc.Outcome): void {
    this.outcomes[outcome]++;
  }

  refusal(): AuditUnavailableError | undefined {
    if (this.failMode !== 'closed' || this.sink.canRecord === undefined || this.sink.canRecord()) return undefined;
    return new AuditUnavailableError(this.sink.unavailableReason?.() ?? 'the audit trail cannot take records');
  }

  commit(): boolean {
    if (this.durability !== 'strict' || this.sink.commit === undefined) return true;
    // Once the sink is closing nothing more is promised durable, whatever it would answer.
    if (this.sinkClosing) return false;
    return this.sink.commit();
  }

  callStarted(call: InFlightCall): void {
    this.inFlight.add(call);
  }

  callSettled(call: InFlightCall): void {
    this.inFlight.delete(call);
    if (this.drained !== undefined && this.inFlight.size === 0) this.drained();
  }

  bodyGate(): AuditUnavailableError | undefined {
    if (!this.bodiesClosed) return undefined;
    return new AuditUnavailableError(
      `auditor "${this.serviceName}" shut down before this call's tool body could start; it was not run because it could not be recorded`,
      { code: SHUT_DOWN_CODE },
    );
  }

  backoff(ms: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const cancel = (): void => {
        clearTimeout(timer);
        this.backoffs.delete(cancel);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.backoffs.delete(cancel);
        resolve(true);
      }, ms);
      this.backoffs.add(cancel);
    });
  }

  /** A record finishing after the stream ended: counted and warned about, not appended. */
  private late(span: ReadableSpan): void {
    this.lateRecords++;
    this.logger.warn(
      `audit record "${span.name}" finished after the stream ended (shutdown or exit) and was not kept; ` +
        `the trail holds its call's unfinished record; ${this.lateRecords} such so far`,
    );
  }

  recordFailed(err: unknown): void {
    this.recordErrors++;
    const now = Date.now();
    if (now - this.lastRecordWarning > 5_000) {
      this.lastRecordWarning = now;
      this.logger.warn(`an audit record could not be written (${describeError(err)}); ${this.recordErrors} lost this way so far`);
    }
  }

  // ---- wrapping and runs -------------------------------------------------------------------

  withAudit<F extends ToolFunction>(fn: F, options?: ToolOptions<F>): AuditedFunction<F> {
    const def = defineTool(fn, options as ToolOptions | undefined);
    return makeAudited(() => this, fn, def);
  }

  auditTools<T extends object>(tools: T, options?: AuditToolsOptions): AuditedTools<T> {
    return auditRegistry(tools, options, (fn, opts) => this.withAudit(fn, opts));
  }

  private endSpan(span: Span): void {
    try {
      span.end();
    } catch (err) {
      this.recordFailed(err);
    }
  }

  async run<R>(identity: RunIdentityInput, fn: () => R): Promise<Awaited<R>> {
    checkIdentity(identity);
    const outer = auditStorage.getStore();
    const run = freezeIdentity(identity, identity.runId ?? newRunId(), outer?.run?.runId);
    // After shutdown began a run span could not be recorded; the run's calls are refused anyway.
    if (!this.runSpans || this.closing) {
      const store: AuditStore = { run, runSpan: undefined, runContext: undefined, call: undefined };
      return auditStorage.run(store, async (): Promise<Awaited<R>> => await fn());
    }
    const active = context.active();
    const parent = trace.getSpan(active) !== undefined || !outer?.runContext ? active : outer.runContext;
    const agentName = identity.agent?.name;
    const runSpan = this.tracer.startSpan(agentName ? `${sc.SPAN_NAME_INVOKE_AGENT} ${agentName}` : sc.SPAN_NAME_INVOKE_AGENT, {
      kind: SpanKind.INTERNAL,
      attributes: { ...this.runAttributes(run), [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.OPERATION_INVOKE_AGENT },
    }, parent);
    const runContext = trace.setSpan(parent, runSpan);
    const store: AuditStore = { run, runSpan, runContext, call: undefined };
    this.openRuns.add(runSpan);
    try {
      const result = await auditStorage.run(store, () => context.with(runContext, async (): Promise<Awaited<R>> => await fn()));
      runSpan.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      runSpan.setAttribute(sc.ATTR_ERROR_TYPE, errorType(err));
      let message: string;
      try {
        message = this.encoder.text(describeError(err), { tool: '', field: 'error' });
      } catch {
        message = sc.MASKING_FAILED_MARKER;
      }
      runSpan.setStatus({ code: SpanStatusCode.ERROR, message });
      throw err;
    } finally {
      this.openRuns.delete(runSpan);
      this.endSpan(runSpan);
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async flush(timeoutMs = 30_000): Promise<boolean> {
    checkTimeout('flush', timeoutMs);
    // A record lost before it reached the sink is a loss the sink cannot see: false, like its own.
    const delivered = await this.sink.flush(timeoutMs);
    return delivered && this.recordErrors === 0 && this.lateRecords === 0;
  }

  shutdown(timeoutMs = 30_000): Promise<boolean> {
    if (this.shutdownPromise) return this.shutdownPromise;
    try {
      checkTimeout('shutdown', timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    this.closing = true;
    // Waits for calls are cut short: a retry is new work nobody would record.
    for (const cancel of [...this.backoffs]) cancel();
    this.shutdownPromise = this.stop(timeoutMs);
    return this.shutdownPromise;
  }

  /** Waits until no call is in flight, or `ms` passed. */
  private drain(ms: number): Promise<void> {
    if (this.inFlight.size === 0 || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Ref'd: a pending shutdown keeps the process alive until it settles.
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.drained = undefined;
        resolve();
      }
      this.drained = done;
    });
  }

  /** Records what is still open: calls whose body runs (as unfinished) and runs (ended now). */
  private recordUnfinished(): number {
    let unfinished = 0;
    for (const call of this.inFlight) {
      if (!call.bodyStarted) continue;
      call.writeUnfinished();
      unfinished++;
    }
    this.unfinishedCalls += unfinished;
    for (const runSpan of this.openRuns) {
      runSpan.setAttribute(sc.ATTR_RUN_UNFINISHED, true);
      runSpan.setStatus({ code: SpanStatusCode.ERROR, message: 'the run was still going when the auditor shut down' });
      this.endSpan(runSpan);
    }
    this.openRuns.clear();
    return unfinished;
  }

  private async stop(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Calls in flight get half the deadline to finish; delivery keeps the rest.
    await this.drain(Math.floor(timeoutMs / 2));
    this.bodiesClosed = true;
    // A rule or schema still deciding: the call is denied (or invalid) and recorded now.
    for (const pending of [...this.pendingDecisions]) pending.expire('shutdown');
    // Let every settled decision run to its record (or its refusal) before the stream ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const unfinished = this.recordUnfinished();
    // The final checkpoint comes after the last record, so a verifier sees the stream ended.
    this.chain?.end();
    this.sinkClosing = true;
    let delivered: boolean;
    try {
      delivered = await this.sink.shutdown(Math.max(0, deadline - Date.now()));
    } catch (err) {
      this.logger.warn(`the audit sink failed to shut down: ${describeError(err)}`);
      delivered = false;
    }
    this.unhook();
    return delivered && unfinished === 0 && this.recordErrors === 0 && this.lateRecords === 0;
  }

  /** At process exit (synchronous): unfinished calls and runs recorded, stream ended, all spilled. */
  finishForExit(): void {
    if (!this.sinkClosing) {
      this.closing = true;
      this.bodiesClosed = true;
      this.recordUnfinished();
      this.chain?.end();
      this.sinkClosing = true;
    }
    // Also mid-shutdown (a second signal): whatever the sink still holds in memory goes to the spool.
    try {
      this.sink.spillForExit?.();
    } catch (err) {
      this.logger.warn(`audit records could not be spilled at exit: ${describeError(err)}`);
    }
  }

  stats(): AuditStats {
    return {
      ...this.sink.stats(),
      calls: { ...this.outcomes },
      maskingFailures: this.masker?.failures ?? 0,
      recordErrors: this.recordErrors,
      unfinishedCalls: this.unfinishedCalls,
      lateRecords: this.lateRecords,
    };
  }
}

declare const __TOOLTRAIL_VERSION__: string | undefined;
const VERSION: string = typeof __TOOLTRAIL_VERSION__ === 'string' ? __TOOLTRAIL_VERSION__ : '0.0.0-dev';
