import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import { ToolMessage } from '@langchain/core/messages';
import { ToolInputParsingException } from '@langchain/core/tools';
import type { ToolRunnableConfig } from '@langchain/core/tools';
import { AuditConfigError, type AuditedFunction, type PolicyRule, type ToolOptions } from '@tooltrail/core';
import {
  checkAdapterOptions,
  isDenial,
  isRefusal,
  refusalHandling,
  withAdapterAudit,
  type RefusalHandling,
  type RefusedCall,
} from '@tooltrail/core/adapter';
import {
  AUDIT_TOOL_KEYS,
  AUDIT_TOOLS_KEYS,
  TOOL_OPTION_KEYS,
  type AuditLangChainToolOptions,
  type AuditLangChainToolsOptions,
  type LangChainTool,
  type ToolArgs,
} from './options.js';
import { toArgumentSchema } from './schema.js';
import { drain, isAsyncGenerator } from './stream.js';

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

/** What a wrapped tool keeps for the adapter's other entry points (recording refused calls). */
export interface AuditedToolState {
  readonly audited: AuditedBody;
  readonly refusals: RefusalHandling;
  /**
   * The invalid tool calls already recorded, with their refusal: the same message passed again
   * (the history on the next turn) is answered again but not recorded twice. By identity, not by
   * call id: ids are the model's, and some reuse them across conversations.
   */
  readonly recordedInvalid: WeakMap<object, RefusedCall>;
}

/** Global, so a tool wrapped by this package's ESM build is recognised by its CJS build. */
const AUDITED = Symbol.for('tooltrail.langchain.audited');

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
export function auditLangChainTool<T extends LangChainTool>(tool: T, options: AuditLangChainToolOptions<ToolArgs<T>> = {}): T {
  const internals = checkTool(tool);
  checkAdapterOptions('auditLangChainTool()', options, AUDIT_TOOL_KEYS);
  return wrapTool(tool, internals, options, refusalHandling(options, '@tooltrail/langchain', 'auditLangChainTool()'));
}

function wrapTool<T extends LangChainTool>(tool: T, internals: ToolInternals, options: AuditLangChainToolOptions<ToolArgs<T>>, refusals: RefusalHandling): T {
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
  const audited: AuditedBody = withAdapterAudit(options, body, toolOptions, 'auditLangChainTool()');

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
      return refusalOutcome(this, refusal, refusals, callId, arg);
    }
  };

  const wrapped = Object.create(tool) as T;
  Object.defineProperty(wrapped, 'call', { value: call, configurable: true, writable: true });
  const state: AuditedToolState = { audited, refusals, recordedInvalid: new WeakMap() };
  Object.defineProperty(wrapped, AUDITED, { value: state });
  return wrapped;
}

/**
 * A refusal as the framework gets it: thrown (a denial as itself, invalid arguments as
 * LangChain's own parsing error, as the unaudited tool throws), or as the tool's error result.
 */
export function refusalOutcome(tool: { name: string; metadata?: Record<string, unknown> }, refusal: RefusedCall, refusals: RefusalHandling, callId: string | undefined, arg: unknown): unknown {
  if (refusals.modeFor(refusal) === 'throw') {
    if (isDenial(refusal)) throw refusal;
    throw Object.assign(new ToolInputParsingException(refusal.message, safeStringify(arg)), { cause: refusal });
  }
  return refusalResult(tool, refusals.format(refusal), callId);
}

/**
 * Audits a list of tools (`auditLangChainTool` on each), keeping its order and types: the one-line change
 * is `model.bindTools(auditTools(tools))` plus running the same list in the agent loop.
 */
export function auditLangChainTools<const T extends readonly LangChainTool[]>(tools: T, options: AuditLangChainToolsOptions = {}): Mutable<T> {
  const fn = 'auditLangChainTools()';
  if (!Array.isArray(tools)) throw new AuditConfigError(`${fn} takes an array of LangChain tools`);
  const names = tools.map((t) => (t as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
  checkAdapterOptions(fn, options, AUDIT_TOOLS_KEYS, { keys: TOOL_OPTION_KEYS, names, keyedBy: 'tool name' });
  const { tools: perTool, ...common } = options;
  return tools.map((t: LangChainTool) => {
    const own = perTool?.[t.name];
    const policy: PolicyRule[] = [...(common.policy ?? []), ...(own?.policy ?? [])];
    const merged: AuditLangChainToolOptions = { ...common, ...own, policy };
    return wrapTool(t, checkTool(t), merged, refusalHandling(merged, '@tooltrail/langchain', fn));
  }) as unknown as Mutable<T>;
}

/** A tuple type without `readonly`, so the result goes straight into `bindTools([...])` parameters. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Whether `tool` came from `auditLangChainTool` (of any build of this package). */
export function isAuditedTool(tool: unknown): boolean {
  return auditedStateOf(tool) !== undefined;
}

export function auditedStateOf(tool: unknown): AuditedToolState | undefined {
  const state = typeof tool === 'object' && tool !== null ? (tool as { [AUDITED]?: unknown })[AUDITED] : undefined;
  return typeof state === 'object' && state !== null ? (state as AuditedToolState) : undefined;
}

function checkTool(tool: unknown): ToolInternals {
  const t = tool as Partial<ToolInternals> | null;
  // Duck-typed like LangChain's isStructuredTool: two copies of @langchain/core (ESM and CJS)
  // have distinct StructuredTool classes, and instanceof would reject one of them.
  if (typeof t !== 'object' || t === null || !Array.isArray(t.lc_namespace) || typeof t.call !== 'function' || typeof t._call !== 'function') {
    throw new AuditConfigError('auditLangChainTool() takes a LangChain StructuredTool (tool(), DynamicStructuredTool, a StructuredTool subclass)');
  }
  if (typeof t.name !== 'string' || t.name.trim() === '') throw new AuditConfigError('auditLangChainTool(): the tool has no name');
  if (isAuditedTool(t)) throw new AuditConfigError(`auditLangChainTool(): tool "${t.name}" is already audited`);
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
function refusalResult(tool: { name: string; metadata?: Record<string, unknown> | undefined }, text: string, callId: string | undefined): unknown {
  if (callId === undefined) return text;
  return new ToolMessage({ content: text, status: 'error', tool_call_id: callId, name: tool.name, metadata: tool.metadata });
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
