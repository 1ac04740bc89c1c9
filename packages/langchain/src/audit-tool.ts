import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import { ToolMessage } from '@langchain/core/messages';
import { ToolInputParsingException } from '@langchain/core/tools';
import type { ToolRunnableConfig } from '@langchain/core/tools';
import type { InferInteropZodOutput } from '@langchain/core/utils/types';
import {
  AuditConfigError,
  withAudit as withDefaultAudit,
  type AuditedFunction,
  type Auditor,
  type PolicyRule,
  type RetryOptions,
  type ToolMaskingOptions,
  type ToolOptions,
  type ToolType,
  unknownOptionKeys,
} from '@tooltrail/core';
import { defaultRefusalMessage, isDenial, isRefusal, type RefusedCall } from './refusal.js';
import { toArgumentSchema } from './schema.js';

/** What every LangChain tool has, and all the adapter needs to see of it at the type level. */
export interface LangChainTool {
  name: string;
  description: string;
  schema: unknown;
  lc_namespace: string[];
}

/**
 * The arguments a tool's body receives (its zod schema's output), as policy rules see them.
 * `unknown` for JSON-schema tools.
 */
export type ToolArgs<T> = T extends { schema: infer S }
  ? [InferInteropZodOutput<S>] extends [never]
    ? unknown
    : InferInteropZodOutput<S>
  : unknown;

/** Options for one tool. `Args`: what its policy rules see as `call.args`. */
export interface LangChainToolOptions<Args = unknown> {
  /** Rules for this tool, run after the auditor's rules (docs/policy.md). */
  policy?: PolicyRule<Args>[];
  /** tooltrail's own retries of the tool body; each attempt is a `tool_attempt` span. */
  retry?: RetryOptions;
  /** `gen_ai.tool.type`. Default `function`. */
  type?: ToolType;
  /** Masking for this tool's payloads, over the auditor's. */
  masking?: ToolMaskingOptions;
  /**
   * A call denied by policy. `message` (default): the tool returns an error result the model
   * reads (a `ToolMessage` with `status: 'error'`). `throw`: `AuditDeniedError` is thrown.
   */
  onDenied?: 'message' | 'throw';
  /**
   * Arguments that fail the tool's schema. `message` (default): an error result as for
   * `onDenied`. `throw`: LangChain's own `ToolInputParsingException`, as the unaudited tool
   * throws, with the `AuditValidationError` as its `cause`.
   */
  onInvalid?: 'message' | 'throw';
  /** The text of the error result the model reads. Default: `defaultRefusalMessage`. */
  formatRefusal?: (error: RefusedCall) => string;
}

export interface AuditToolOptions<Args = unknown> extends LangChainToolOptions<Args> {
  /** The auditor that records the calls. Default: the process default auditor, looked up at each call. */
  auditor?: Auditor;
}

export interface AuditLangChainToolsOptions extends AuditToolOptions {
  /** Options for single tools, by tool name; their policy runs after the common policy. */
  tools?: Record<string, LangChainToolOptions>;
}

/** The StructuredTool members the wrapper calls; `_call` is protected in LangChain's types. */
interface ToolInternals extends LangChainTool {
  call(arg: unknown, configArg?: unknown, tags?: string[]): Promise<unknown>;
  _call(arg: unknown, runManager?: CallbackManagerForToolRun, parentConfig?: ToolRunnableConfig): unknown;
  metadata?: Record<string, unknown>;
}

/** One call's facts, handed to the audited body as `this`. */
interface CallState {
  readonly tool: ToolInternals;
  runManager: CallbackManagerForToolRun | undefined;
  config: ToolRunnableConfig | undefined;
  /** Set when tooltrail let the body run: a refusal after that is the body's own error. */
  started: boolean;
  /** The refusal tooltrail threw for this call, if it did. */
  refusal: RefusedCall | undefined;
}

type Body = (this: CallState, input: unknown) => Promise<unknown>;
type AuditedBody = AuditedFunction<Body>;

const AUDITED = Symbol.for('tooltrail.langchain.audited');

/** Every key of `T`: the compiler refuses a list that misses one or names another. */
const keysOf = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);
const TOOL_OPTION_KEYS = keysOf<LangChainToolOptions>({
  policy: true,
  retry: true,
  type: true,
  masking: true,
  onDenied: true,
  onInvalid: true,
  formatRefusal: true,
});
const AUDIT_TOOL_KEYS: readonly string[] = [...keysOf<Omit<AuditToolOptions, keyof LangChainToolOptions>>({ auditor: true }), ...TOOL_OPTION_KEYS];
const AUDIT_TOOLS_KEYS: readonly string[] = [...AUDIT_TOOL_KEYS, ...keysOf<Omit<AuditLangChainToolsOptions, keyof AuditToolOptions>>({ tools: true })];

/**
 * Unknown keys in the options (in `retry`, `masking` and each tool's options too) and `tools`
 * entries that name no tool are errors, each naming the nearest valid name: a typo would
 * otherwise be silently ignored.
 */
function checkOptions(fn: string, options: unknown, valid: readonly string[], tools?: readonly unknown[]): void {
  if (typeof options !== 'object' || options === null) throw new AuditConfigError(`${fn} options must be an object`);
  const issues = unknownOptionKeys(options, valid);
  const perTool = (options as { tools?: unknown }).tools;
  if (tools !== undefined && perTool !== undefined) {
    if (typeof perTool !== 'object' || perTool === null || Array.isArray(perTool)) issues.push('tools must be an object of per-tool options, by tool name');
    else {
      const names = tools.map((t) => (t as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
      // An entry for a name that is not in the list would configure nothing.
      issues.push(...unknownOptionKeys(perTool, names, 'tools.'));
      for (const [name, own] of Object.entries(perTool)) {
        if (own === undefined) continue;
        if (typeof own !== 'object' || own === null) issues.push(`tools.${name} must be an object of options`);
        else issues.push(...unknownOptionKeys(own, TOOL_OPTION_KEYS, `tools.${name}.`));
      }
    }
  }
  if (issues.length > 0) throw new AuditConfigError(`invalid ${fn} options`, issues);
}

/**
 * Returns the tool audited: every call through `invoke` (or `call`) becomes an `execute_tool`
 * span. The result inherits from the tool, so it is still an instance of its class, with the
 * same name, description, schema and behaviour; the tool itself is left unchanged.
 *
 * - call id: the `ToolCall`'s id when invoked with one, else generated;
 * - proposed arguments: the input as LangChain hands it over, before the schema;
 * - executed arguments: what `_call` (the `tool()` function) receives, after the schema and
 *   policy rewrites.
 */
export function auditTool<T extends LangChainTool>(tool: T, options: AuditToolOptions<ToolArgs<T>> = {}): T {
  const internals = checkTool(tool);
  checkOptions('auditTool()', options, AUDIT_TOOL_KEYS);
  const originalCall = internals.call;
  const originalUnderscoreCall = internals._call;
  const toolOptions: ToolOptions<Body> = {
    name: internals.name,
    description: internals.description,
    schema: toArgumentSchema(internals.schema),
    // Rules are typed by the tool's arguments for the caller; core holds them untyped.
    policy: options.policy as PolicyRule[] | undefined,
    retry: options.retry,
    type: options.type,
    masking: options.masking,
  };
  // The body runs on the original tool, so subclasses with private (#) fields keep working.
  const body: Body = async function (this: CallState, input: unknown): Promise<unknown> {
    this.started = true;
    const out: unknown = await originalUnderscoreCall.call(this.tool, input, this.runManager, this.config);
    return isAsyncGenerator(out) ? drain(out, this.runManager) : out;
  };
  const audited: AuditedBody = options.auditor ? options.auditor.withAudit(body, toolOptions) : withDefaultAudit(body, toolOptions);
  const onDenied = options.onDenied ?? 'message';
  const onInvalid = options.onInvalid ?? 'message';
  const format = options.formatRefusal ?? defaultRefusalMessage;

  const call = async function (this: ToolInternals, arg: unknown, configArg?: unknown, tags?: string[]): Promise<unknown> {
    const callId = toolCallId(arg, configArg);
    const state: CallState = { tool: internals, runManager: undefined, config: undefined, started: false, refusal: undefined };
    // LangChain's own `call` still runs (callbacks, tracing, ToolMessage formatting,
    // `responseFormat`), on a per-call view whose schema passes the input through and whose
    // `_call` is the audited body.
    const view = Object.create(this) as ToolInternals;
    // LangChain parses with an empty JSON schema instead of the tool's own while tooltrail parses
    // with the real one: `{}` accepts anything and hands the input on untouched. Parsing twice
    // would apply zod transforms twice and record arguments the body never received. A fresh
    // object each call: the JSON-schema validator writes bookkeeping into the schema it is given.
    Object.defineProperty(view, 'schema', { value: {}, configurable: true, writable: true });
    Object.defineProperty(view, '_call', {
      configurable: true,
      writable: true,
      value: (input: unknown, runManager?: CallbackManagerForToolRun, config?: ToolRunnableConfig): Promise<unknown> => {
        state.runManager = runManager;
        state.config = config;
        return audited.invokeWith({ callId, thisArg: state }, input).catch((err: unknown) => {
          if (!state.started && isRefusal(err)) state.refusal = err;
          throw err;
        });
      },
    });
    try {
      return await originalCall.call(view, arg, configArg, tags);
    } catch (err) {
      // Only this call's own refusal becomes a result; a denial raised inside the body (a nested
      // audited call) is the body's error and propagates unchanged.
      const refusal = state.refusal;
      if (refusal === undefined || err !== refusal) throw err;
      if (isDenial(refusal)) {
        if (onDenied === 'throw') throw refusal;
      } else if (onInvalid === 'throw') {
        throw Object.assign(new ToolInputParsingException(refusal.message, safeStringify(arg)), { cause: refusal });
      }
      return refusalResult(this, format(refusal), callId);
    }
  };

  const wrapped = Object.create(tool) as T;
  Object.defineProperty(wrapped, 'call', { value: call, configurable: true, writable: true });
  Object.defineProperty(wrapped, AUDITED, { value: true });
  return wrapped;
}

/**
 * Audits a list of tools (`auditTool` on each), keeping its order and types: the one-line change
 * is `model.bindTools(auditTools(tools))` plus running the same list in the agent loop.
 */
export function auditTools<const T extends readonly LangChainTool[]>(tools: T, options: AuditLangChainToolsOptions = {}): Mutable<T> {
  if (!Array.isArray(tools)) throw new AuditConfigError('auditTools() takes an array of LangChain tools');
  checkOptions('auditTools()', options, AUDIT_TOOLS_KEYS, tools);
  const { tools: perTool, ...common } = options;
  return tools.map((t: LangChainTool) => {
    const own = perTool?.[t.name];
    const policy: PolicyRule[] = [...(common.policy ?? []), ...(own?.policy ?? [])];
    return auditTool<LangChainTool>(t, { ...common, ...own, policy });
  }) as unknown as Mutable<T>;
}

/** A tuple type without `readonly`, so the result goes straight into `bindTools([...])` parameters. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Whether `tool` came from `auditTool`. */
export function isAuditedTool(tool: unknown): boolean {
  return typeof tool === 'object' && tool !== null && (tool as { [AUDITED]?: unknown })[AUDITED] === true;
}

function checkTool(tool: unknown): ToolInternals {
  const t = tool as Partial<ToolInternals> | null;
  // Duck-typed like LangChain's isStructuredTool: two copies of @langchain/core (ESM and CJS)
  // have distinct StructuredTool classes, and instanceof would reject one of them.
  if (typeof t !== 'object' || t === null || !Array.isArray(t.lc_namespace) || typeof t.call !== 'function' || typeof t._call !== 'function') {
    throw new AuditConfigError('auditTool() takes a LangChain StructuredTool (tool(), DynamicStructuredTool, a StructuredTool subclass)');
  }
  if (typeof t.name !== 'string' || t.name.trim() === '') throw new AuditConfigError('auditTool(): the tool has no name');
  if (isAuditedTool(t)) throw new AuditConfigError(`auditTool(): tool "${t.name}" is already audited`);
  return t as ToolInternals;
}

/** The id LangChain itself gives the resulting ToolMessage: the ToolCall's, else `config.toolCall`'s. */
function toolCallId(arg: unknown, configArg: unknown): string | undefined {
  if (isToolCall(arg) && typeof arg.id === 'string' && arg.id !== '') return arg.id;
  const toolCall = (configArg as { toolCall?: { id?: unknown } } | null | undefined)?.toolCall;
  return typeof toolCall?.id === 'string' && toolCall.id !== '' ? toolCall.id : undefined;
}

function isToolCall(x: unknown): x is { id?: unknown; args: unknown } {
  return typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'tool_call';
}

/**
 * With a call id the model gets a `ToolMessage` with `status: 'error'`, as LangGraph's ToolNode
 * makes of a failing tool. Without one LangChain returns bare content, and so does this: the
 * text is the tool's output.
 */
function refusalResult(tool: ToolInternals, text: string, callId: string | undefined): unknown {
  if (callId === undefined) return text;
  return new ToolMessage({ content: text, status: 'error', tool_call_id: callId, name: tool.name, metadata: tool.metadata });
}

function isAsyncGenerator(x: unknown): x is AsyncGenerator<unknown, unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function';
}

/**
 * A streaming tool's generator is drained inside the audited body, so its work runs within the
 * attempt (identity, span context) and the recorded result is its return value. Chunks still
 * reach LangChain's callbacks as tool events, as LangChain does it.
 */
async function drain(gen: AsyncGenerator<unknown, unknown>, runManager: CallbackManagerForToolRun | undefined): Promise<unknown> {
  try {
    let step = await gen.next();
    while (!step.done) {
      try {
        await runManager?.handleToolEvent(step.value);
      } catch (streamError) {
        await runManager?.handleToolError(streamError);
      }
      step = await gen.next();
    }
    return step.value;
  } finally {
    await gen.return?.(undefined);
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
