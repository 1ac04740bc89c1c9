import type { FlexibleSchema, ToolExecutionOptions, ToolSet } from 'ai';
import {
  AuditConfigError,
  withAudit,
  type ArgumentSchema,
  type AuditedFunction,
  type Auditor,
  type PolicyRule,
  type RetryOptions,
  type ToolMaskingOptions,
  type ToolOptions,
  type ToolType,
  unknownOptionKeys,
} from '@tooltrail/core';
import { Channel, drain, isAsyncGeneratorFunction, isAsyncIterable } from './preliminary.js';
import { parseWith, splitSchema } from './schema.js';

/** Options for one tool, by its key in the tools record. */
export interface AiSdkToolAuditOptions {
  /** `gen_ai.tool.description`. Default: the tool's `description` when it is a string. */
  description?: string;
  /** `gen_ai.tool.type`. Default `function`. */
  type?: ToolType;
  /** Rules for this tool only, after the auditor's and the record-wide ones. */
  policy?: PolicyRule[];
  /** Retries of the tool body inside one SDK tool call, each a `tool_attempt` span. */
  retry?: RetryOptions;
  masking?: ToolMaskingOptions;
}

export interface AuditAiSdkToolsOptions<TOOLS extends ToolSet = ToolSet> {
  /** The auditor that records the calls. Default: tooltrail's default auditor, looked up at each call. */
  auditor?: Auditor;
  /**
   * Who validates the model's input against the tool's `inputSchema`.
   * - `'tooltrail'` (default): the SDK hands the model's raw input to `execute`; tooltrail validates
   *   it, so the trail shows the proposal beside what executed, and a validation failure is an
   *   `invalid` span (and a tool error result for the model).
   * - `'sdk'`: the SDK validates as usual. `execute` sees parsed input only, so proposed = executed
   *   (unless policy rewrites) and input the schema rejects never reaches tooltrail: not recorded.
   */
  validation?: 'tooltrail' | 'sdk';
  /** Rules for every tool in the record, after the auditor's. */
  policy?: PolicyRule[];
  retry?: RetryOptions;
  masking?: ToolMaskingOptions;
  /** Per-tool options, by key. */
  tools?: { [K in keyof TOOLS]?: AiSdkToolAuditOptions };
}

/** Every key of `T`: the compiler refuses a list that misses one or names another. */
const keysOf = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);
const TOOLS_OPTION_KEYS = keysOf<AuditAiSdkToolsOptions>({ auditor: true, validation: true, policy: true, retry: true, masking: true, tools: true });
const TOOL_OPTION_KEYS = keysOf<AiSdkToolAuditOptions>({ description: true, type: true, policy: true, retry: true, masking: true });

/**
 * Unknown keys anywhere in the options (the common ones, each tool's, their `retry` and
 * `masking`) and `tools` entries that name no tool are errors, each naming the nearest valid name.
 */
function checkOptions(tools: object, options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new AuditConfigError('auditAiSdkTools() options must be an object');
  const issues = unknownOptionKeys(options, TOOLS_OPTION_KEYS);
  const perTool = (options as { tools?: unknown }).tools;
  if (perTool !== undefined) {
    if (typeof perTool !== 'object' || perTool === null || Array.isArray(perTool)) issues.push('tools must be an object of per-tool options, by tool key');
    else {
      // A per-tool entry for a key that is not in the record would configure nothing.
      issues.push(...unknownOptionKeys(perTool, Object.keys(tools), 'tools.'));
      for (const [key, own] of Object.entries(perTool)) {
        if (own === undefined) continue;
        if (typeof own !== 'object' || own === null) issues.push(`tools.${key} must be an object of options`);
        else issues.push(...unknownOptionKeys(own, TOOL_OPTION_KEYS, `tools.${key}.`));
      }
    }
  }
  if (issues.length > 0) throw new AuditConfigError('invalid auditAiSdkTools() options', issues);
}

/** Marks an audited `execute`, so auditing a record twice does not record every call twice. */
const AUDITED = Symbol.for('tooltrail.ai-sdk.audited-execute');

/** What the audited body needs of one SDK call, passed as its `this` so it is not recorded as an argument. */
interface CallContext {
  readonly options: ToolExecutionOptions<unknown> | undefined;
  readonly onPreliminary?: ((value: unknown) => void) | undefined;
}

type ExecuteFn = (input: unknown, options: ToolExecutionOptions<unknown> | undefined) => unknown;
type Callback = (this: unknown, ...args: unknown[]) => unknown;

/** The properties of an SDK tool this adapter reads or replaces. */
interface ToolShape {
  execute?: unknown;
  inputSchema?: FlexibleSchema<unknown>;
  description?: unknown;
  needsApproval?: unknown;
  onInputAvailable?: unknown;
  toModelOutput?: unknown;
}

/**
 * Audits an AI SDK tools record: every tool with an `execute` is returned with an audited one;
 * everything else (tools without `execute`, provider-executed tools) is returned as it was.
 */
export function auditAiSdkTools<TOOLS extends ToolSet>(tools: TOOLS, options: AuditAiSdkToolsOptions<TOOLS> = {}): TOOLS {
  if (typeof tools !== 'object' || tools === null) {
    throw new AuditConfigError('auditAiSdkTools() needs the AI SDK tools record ({ name: tool({...}) })');
  }
  checkOptions(tools, options);
  const validation = options.validation ?? 'tooltrail';
  if (validation !== 'tooltrail' && validation !== 'sdk') {
    throw new AuditConfigError(`auditAiSdkTools(): validation must be 'tooltrail' or 'sdk', got ${String(validation)}`);
  }
  const perTool = (options.tools ?? {}) as Record<string, AiSdkToolAuditOptions | undefined>;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(tools)) {
    const t = (tools as Record<string, unknown>)[name];
    out[name] = isAuditable(t) ? auditTool(name, t, options, perTool[name], validation) : t;
  }
  return out as TOOLS;
}

function isAuditable(t: unknown): t is ToolShape & { execute: ExecuteFn } {
  if (typeof t !== 'object' || t === null) return false;
  const execute = (t as ToolShape).execute;
  return typeof execute === 'function' && !(AUDITED in execute);
}

function auditTool(
  name: string,
  t: ToolShape & { execute: ExecuteFn },
  common: AuditAiSdkToolsOptions<ToolSet>,
  own: AiSdkToolAuditOptions | undefined,
  validation: 'tooltrail' | 'sdk',
): ToolShape {
  const split = validation === 'tooltrail' ? splitSchema(t.inputSchema) : undefined;
  const original = t.execute;
  const body = function (this: CallContext, input: unknown): unknown {
    const result = original.call(t, input, this.options);
    return isAsyncIterable(result) ? drain(result, this.onPreliminary) : result;
  };
  const toolOptions: ToolOptions<typeof body> = {
    name,
    description: own?.description ?? (typeof t.description === 'string' ? t.description : undefined),
    type: own?.type,
    schema: split?.auditSchema,
    retry: own?.retry ?? common.retry,
    masking: own?.masking ?? common.masking,
    policy: [...(common.policy ?? []), ...(own?.policy ?? [])],
  };
  const audited = common.auditor ? common.auditor.withAudit(body, toolOptions) : withAudit(body, toolOptions);

  const execute = isAsyncGeneratorFunction(original) ? streamingExecute(audited) : plainExecute(audited);
  Object.defineProperty(execute, AUDITED, { value: true });
  // Same prototype and properties; only what auditing needs is replaced.
  const next = Object.assign(Object.create(Object.getPrototypeOf(t) as object | null) as ToolShape, t, { execute });
  if (split !== undefined) {
    next.inputSchema = split.modelSchema;
    withParsedInput(next, t, split.auditSchema);
  }
  return next;
}

function plainExecute(audited: AuditedFunction<(this: CallContext, input: unknown) => unknown>): ExecuteFn {
  return function execute(input, options) {
    // A direct call without SDK options (a unit test, say) still gets a call id: core makes one.
    return audited.invokeWith({ callId: options?.toolCallId, thisArg: { options } }, input);
  };
}

/** For `async *execute` tools: an async generator again, so the SDK still streams preliminary results. */
function streamingExecute(audited: AuditedFunction<(this: CallContext, input: unknown) => unknown>): ExecuteFn {
  return async function* execute(input, options) {
    const channel = new Channel<unknown>();
    const done = audited.invokeWith(
      { callId: options?.toolCallId, thisArg: { options, onPreliminary: (value: unknown) => channel.push(value) } },
      input,
    );
    done.then(
      () => channel.close(),
      (error: unknown) => channel.fail(error),
    );
    yield* channel;
  };
}

/**
 * The SDK hands `needsApproval`, `onInputAvailable` and `toModelOutput` the tool call's input,
 * which with tooltrail validating is now the model's raw input. They get it parsed, as without
 * the adapter, so an approval rule compares the values that would execute.
 */
function withParsedInput(next: ToolShape, t: ToolShape, schema: ArgumentSchema): void {
  const parsed = async (raw: unknown): Promise<{ ok: true; value: unknown } | { ok: false }> => {
    try {
      const r = await parseWith(schema, raw);
      return r.success ? { ok: true, value: r.data } : { ok: false };
    } catch {
      return { ok: false };
    }
  };
  const needsApproval = t.needsApproval;
  if (typeof needsApproval === 'function') {
    next.needsApproval = async (input: unknown, options: unknown) => {
      const p = await parsed(input);
      // Input the schema rejects never executes (tooltrail records it as invalid), so there is nothing to approve.
      return p.ok ? (needsApproval as Callback).call(t, p.value, options) : false;
    };
  }
  const onInputAvailable = t.onInputAvailable;
  if (typeof onInputAvailable === 'function') {
    next.onInputAvailable = async (event: { input: unknown }) => {
      const p = await parsed(event.input);
      return (onInputAvailable as Callback).call(t, { ...event, input: p.ok ? p.value : event.input });
    };
  }
  const toModelOutput = t.toModelOutput;
  if (typeof toModelOutput === 'function') {
    next.toModelOutput = async (event: { input: unknown }) => {
      const p = await parsed(event.input);
      return (toModelOutput as Callback).call(t, { ...event, input: p.ok ? p.value : event.input });
    };
  }
}
