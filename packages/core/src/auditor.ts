import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { AuditTracer } from './telemetry/audit-tracer.js';
import { resolveTracesUrl, validateOptions, type AuditorOptions } from './config.js';
import { AuditConfigError, AuditUnavailableError } from './errors.js';
import { RecordPipeline, type RecordStage } from './export/record-pipeline.js';
import { createIntegrityChain } from './integrity/options.js';
import type { IntegrityChain } from './integrity/chain.js';
import { BatchingSink } from './export/batching-sink.js';
import { DurableSink, type Durability, type FailMode } from './export/durable-sink.js';
import { consoleLogger, type RecordSink, type SinkStats } from './export/sink.js';
import { newRunId } from './identity/ids.js';
import {
  auditStorage,
  freezeIdentity,
  type AuditStore,
  type RunIdentity,
  type RunIdentityInput,
} from './identity/run-context.js';
import type { PolicyRule } from './policy/decisions.js';
import { plainEncoder, type PayloadEncoder } from './record/payload-encoder.js';
import { createMaskingEncoder, MaskingEncoder } from './masking/encoder.js';
import * as sc from './semconv.js';
import { AuditTracerProvider } from './telemetry/audit-tracer.js';
import { CallAttempts } from './wrapper/call-attempts.js';
import { errorType, invokeAudited, type InvokeEngine } from './wrapper/invoke.js';
import { defineTool, type CallMeta, type ToolDefinition, type ToolFunction, type ToolOptions } from './wrapper/tool-definition.js';
import { describeError } from './serialize/safe-json.js';

/** A wrapped tool: same parameters and `this`, always returns a promise. */
export type AuditedFunction<F extends ToolFunction> = ((
  this: ThisParameterType<F>,
  ...args: Parameters<F>
) => Promise<Awaited<ReturnType<F>>>) & {
  /** The tool name recorded as `gen_ai.tool.name`. */
  readonly toolName: string;
  /** The function that was wrapped. */
  readonly original: F;
  /** Calls the tool with facts a framework knows: its call id, the model's proposed arguments, `this`. */
  invokeWith(meta: CallMeta & { thisArg?: ThisParameterType<F> }, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>>;
};

/** A registry with every function property audited; other properties are kept as they are. */
export type AuditedTools<T> = { [K in keyof T]: T[K] extends ToolFunction ? AuditedFunction<T[K]> : T[K] };

export interface AuditToolsOptions extends Omit<ToolOptions, 'name' | 'description' | 'callId'> {
  /** Options for single tools, by registry key (name defaults to the key). */
  tools?: Record<string, ToolOptions>;
}

export interface AuditStats extends SinkStats {
  /** Calls recorded, by outcome. */
  calls: { ok: number; error: number; denied: number; invalid: number };
  /** Payloads recorded as `[MASKING_FAILED]` because masking them threw (fail closed). */
  maskingFailures: number;
}

export interface Auditor {
  readonly serviceName: string;
  /** Where spans are sent, or `custom exporter`. */
  readonly destination: string;
  withAudit<F extends ToolFunction>(fn: F, options?: ToolOptions<F>): AuditedFunction<F>;
  auditTools<T extends object>(tools: T, options?: AuditToolsOptions): AuditedTools<T>;
  /** Runs `fn` as an audited run: every wrapped call inside is attributed to `identity`. */
  run<R>(identity: RunIdentityInput, fn: () => R): Promise<Awaited<R>>;
  /** Waits until everything recorded so far is delivered, or the deadline. True when all was. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Flushes, then refuses further calls. */
  shutdown(timeoutMs?: number): Promise<boolean>;
  stats(): AuditStats;
  readonly isShutdown: boolean;
  /** This auditor's integrity stream (`tooltrail.stream.id`), or undefined with integrity off. */
  readonly streamId: string | undefined;
}

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
  });
  return audited;
}

export function auditRegistry<T extends object>(
  tools: T,
  options: AuditToolsOptions | undefined,
  wrap: <F extends ToolFunction>(fn: F, opts: ToolOptions<F>) => AuditedFunction<F>,
): AuditedTools<T> {
  if (typeof tools !== 'object' || tools === null) {
    throw new AuditConfigError('auditTools() needs an object whose properties are tool functions');
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
  const text = (v: string, key?: string) => encoder.text(v, { tool: '', field: 'identity', key });
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

function checkIdentity(input: RunIdentityInput): void {
  const issues: string[] = [];
  if (typeof input !== 'object' || input === null) issues.push('identity must be an object');
  else {
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

export class AuditorImpl implements Auditor, InvokeEngine {
  readonly serviceName: string;
  readonly destination: string;
  readonly tracer: AuditTracer;
  readonly encoder: PayloadEncoder;
  readonly policy: readonly PolicyRule[];
  readonly requireIdentity: boolean;
  readonly attempts = new CallAttempts();
  readonly durability: Durability;
  readonly failMode: FailMode;
  private readonly sink: RecordSink;
  private readonly runSpans: boolean;
  private readonly runAttrCache = new WeakMap<RunIdentity, Attributes>();
  private readonly outcomes = { ok: 0, error: 0, denied: 0, invalid: 0 };
  private readonly masker: MaskingEncoder | undefined;
  private readonly chain: IntegrityChain | undefined;
  private closed = false;

  constructor(options: AuditorOptions) {
    validateOptions(options);
    this.serviceName = options.serviceName;
    this.encoder = chooseEncoder(options);
    this.masker = this.encoder instanceof MaskingEncoder ? this.encoder : undefined;
    this.policy = Object.freeze([...(options.policy ?? [])]);
    this.requireIdentity = options.requireIdentity ?? true;
    this.runSpans = options.runSpans ?? true;
    const logger = options.logger ?? consoleLogger;
    this.durability = options.durability ?? 'buffered';
    this.failMode = options.failMode ?? (this.durability === 'strict' ? 'closed' : 'open');
    if (options.exporter) {
      this.destination = 'custom exporter';
      this.sink = new BatchingSink(options.exporter, logger, options.exportQueue);
    } else {
      const url = resolveTracesUrl(options.endpoint);
      this.destination = url;
      this.sink = new DurableSink(options.serviceName, url, options.headers ?? {}, this.durability, this.failMode, logger, {
        ...options.export,
        spoolDir: options.spoolDir,
      });
    }
    this.chain = createIntegrityChain(options.integrity);
    const stages: RecordStage[] = this.chain ? [this.chain] : [];
    const provider = new AuditTracerProvider(options.serviceName, new RecordPipeline(this.sink, stages), options.resourceAttributes);
    this.tracer = provider.getTracer(sc.TRACER_NAME, VERSION);
    this.chain?.attach(this.tracer);
  }

  /** The integrity stream id of this auditor's records, or undefined with integrity off. */
  get streamId(): string | undefined {
    return this.chain?.streamId;
  }

  get isShutdown(): boolean {
    return this.closed;
  }

  runAttributes(run: RunIdentity): Attributes {
    let attrs = this.runAttrCache.get(run);
    if (!attrs) {
      attrs = identityAttributes(run, this.encoder);
      this.runAttrCache.set(run, attrs);
    }
    return attrs;
  }

  invoke(def: ToolDefinition, fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(new AuditConfigError(
        `auditor "${this.serviceName}" is shut down; tool "${def.name}" was not run because it could not be recorded`,
        [],
        'TOOLTRAIL_SHUT_DOWN',
      ));
    }
    return invokeAudited(this, def, fn, thisArg, args, meta);
  }

  countOutcome(outcome: sc.Outcome): void {
    this.outcomes[outcome]++;
  }

  refusal(): AuditUnavailableError | undefined {
    if (this.failMode !== 'closed' || this.sink.canRecord === undefined || this.sink.canRecord()) return undefined;
    return new AuditUnavailableError(this.sink.unavailableReason?.() ?? 'the audit trail cannot take records');
  }

  commit(): boolean {
    if (this.durability !== 'strict' || this.sink.commit === undefined) return true;
    return this.sink.commit();
  }

  withAudit<F extends ToolFunction>(fn: F, options?: ToolOptions<F>): AuditedFunction<F> {
    const def = defineTool(fn, options as ToolOptions | undefined);
    return makeAudited(() => this, fn, def);
  }

  auditTools<T extends object>(tools: T, options?: AuditToolsOptions): AuditedTools<T> {
    return auditRegistry(tools, options, (fn, opts) => this.withAudit(fn, opts));
  }

  async run<R>(identity: RunIdentityInput, fn: () => R): Promise<Awaited<R>> {
    checkIdentity(identity);
    const outer = auditStorage.getStore();
    const run = freezeIdentity(identity, identity.runId ?? newRunId(), outer?.run?.runId);
    if (!this.runSpans) {
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
    try {
      const result = await auditStorage.run(store, () => context.with(runContext, async (): Promise<Awaited<R>> => await fn()));
      runSpan.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      runSpan.setAttribute(sc.ATTR_ERROR_TYPE, errorType(err));
      runSpan.setStatus({ code: SpanStatusCode.ERROR, message: this.encoder.text(describeError(err), { tool: '', field: 'error' }) });
      throw err;
    } finally {
      runSpan.end();
    }
  }

  async flush(timeoutMs = 30_000): Promise<boolean> {
    return this.sink.flush(timeoutMs);
  }

  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    if (this.closed) return true;
    this.closed = true;
    // The stream-end checkpoint goes out with the last records: a verifier can then tell a
    // complete stream from one whose tail was cut.
    this.chain?.end();
    return this.sink.shutdown(timeoutMs);
  }

  stats(): AuditStats {
    return { ...this.sink.stats(), calls: { ...this.outcomes }, maskingFailures: this.masker?.failures ?? 0 };
  }
}

declare const __TOOLTRAIL_VERSION__: string | undefined;
const VERSION: string = typeof __TOOLTRAIL_VERSION__ === 'string' ? __TOOLTRAIL_VERSION__ : '0.0.0-dev';
