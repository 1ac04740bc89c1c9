import type { FlexibleSchema, ToolExecutionOptions, ToolSet } from 'ai';
import {
  AuditConfigError,
  type ArgumentSchema,
  type AuditedFunction,
  type CallMeta,
  type PolicyRule,
  type RetryOptions,
  type ToolMaskingOptions,
  type ToolOptions,
  type ToolFunction,
  type ToolType,
} from '@tooltrail/core';
import {
  ADAPTER_OPTION_KEYS,
  checkAdapterOptions,
  isRefusal,
  optionKeys,
  refusalHandling,
  withAdapterAudit,
  type AdapterOptions,
  type RefusalHandling,
} from '@tooltrail/core/adapter';
import { approvalGate } from './approval-gate.js';
import { approvalOf } from './approvals.js';
import type { ApprovalRoute } from '@tooltrail/core/adapter';
import { rememberTools } from './audited-record.js';
import { Channel, drain, isAsyncGeneratorFunction, isAsyncIterable } from './preliminary.js';
import { parserOf, splitSchema, type Parsed } from './schema.js';

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

/**
 * `onRefusal`: only `result` (default) exists here: the SDK turns every error `execute` throws
 * into a `tool-error` result and carries on, so a refusal cannot fail the run from inside the
 * tool. To stop on one: `stopWhen: stopOnAuditDenial()`, or throw on `auditRefusals(steps)`.
 * `formatRefusal` sets the text the model reads (the error's message); the default is core's.
 */
export interface AuditAiSdkToolsOptions<TOOLS extends ToolSet = ToolSet> extends AdapterOptions {
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
  /**
   * Who answers a call the policy says to `ask` about: `'auto'` (default) the auditor's
   * approval handler when one is configured, else the SDK's tool approval (`needsApproval`
   * says yes: a `tool-approval-request`, recorded as pending approval); `'framework'` always
   * the SDK's; `'handler'` never the SDK's (core asks its handler, or denies without one).
   */
  approvals?: ApprovalRoute;
  /** Per-tool options, by key. */
  tools?: { [K in keyof TOOLS]?: AiSdkToolAuditOptions };
}

const TOOLS_OPTION_KEYS: readonly string[] = [
  ...ADAPTER_OPTION_KEYS,
  ...optionKeys<Omit<AuditAiSdkToolsOptions, keyof AdapterOptions>>({ validation: true, policy: true, retry: true, masking: true, approvals: true, tools: true }),
];
const TOOL_OPTION_KEYS = optionKeys<AiSdkToolAuditOptions>({ description: true, type: true, policy: true, retry: true, masking: true });
const FN = 'auditAiSdkTools()';
const APPROVAL_ROUTES: readonly unknown[] = ['auto', 'framework', 'handler'];

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
    throw new AuditConfigError(`${FN} needs the AI SDK tools record ({ name: tool({...}) })`);
  }
  checkAdapterOptions(FN, options, TOOLS_OPTION_KEYS, { keys: TOOL_OPTION_KEYS, names: Object.keys(tools), keyedBy: 'tool key' });
  if (options.onRefusal === 'throw') {
    throw new AuditConfigError(
      `${FN}: onRefusal 'throw' cannot apply: the AI SDK turns every error a tool throws into a tool-error result and carries on; use stopWhen: stopOnAuditDenial(), or throw on auditRefusals(result.steps)`,
    );
  }
  const refusals = refusalHandling(options, '@tooltrail/ai-sdk', FN);
  const validation = options.validation ?? 'tooltrail';
  if (validation !== 'tooltrail' && validation !== 'sdk') {
    throw new AuditConfigError(`${FN}: validation must be 'tooltrail' or 'sdk', got ${String(validation)}`);
  }
  if (options.approvals !== undefined && !APPROVAL_ROUTES.includes(options.approvals)) {
    throw new AuditConfigError(`${FN}: approvals must be 'auto', 'framework' or 'handler', got ${String(options.approvals)}`);
  }
  const perTool = (options.tools ?? {}) as Record<string, AiSdkToolAuditOptions | undefined>;
  const out: Record<string, unknown> = {};
  const audited = new Map<string, AuditedFunction<ToolFunction>['recordRefused']>();
  for (const name of Object.keys(tools)) {
    const t = (tools as Record<string, unknown>)[name];
    out[name] = isAuditable(t) ? auditTool(name, t, options, perTool[name], validation, refusals, audited) : t;
  }
  rememberTools(out, audited);
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
  refusals: RefusalHandling,
  registry: Map<string, AuditedFunction<ToolFunction>['recordRefused']>,
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
  const audited = withAdapterAudit(common, body, toolOptions, FN);
  registry.set(name, (input) => audited.recordRefused(input));

  const execute = isAsyncGeneratorFunction(original) ? streamingExecute(audited, refusals) : plainExecute(audited, refusals);
  Object.defineProperty(execute, AUDITED, { value: true });
  // Same prototype and properties; only what auditing needs is replaced.
  const next = Object.assign(Object.create(Object.getPrototypeOf(t) as object | null) as ToolShape, t, { execute });
  const parse = split !== undefined ? parserOf(split.auditSchema) : async (raw: unknown): Promise<Parsed> => ({ ok: true, value: raw });
  next.needsApproval = approvalGate({ name, tool: t, own: t.needsApproval, parse, audited, options: common, route: common.approvals ?? 'auto', fn: FN });
  if (split !== undefined) {
    next.inputSchema = split.modelSchema;
    withParsedInput(next, t, parse);
  }
  return next;
}

/**
 * A refusal goes to the SDK as the error it turns into the model's `tool-error` result; its
 * message is the text the model reads, so `formatRefusal` (when given) writes it.
 */
function refused(refusals: RefusalHandling): (error: unknown) => never {
  return (error) => {
    if (refusals.customFormat && isRefusal(error)) Object.defineProperty(error, 'message', { value: refusals.format(error), configurable: true, writable: true });
    throw error;
  };
}

/**
 * What core is told of one SDK call: its id, what the body needs, the approval it was given, and
 * that an approved call resumes one that waited for its answer (`tooltrail.approval.resumed`;
 * told only to a core that knows the flag, which has `previewDecision`).
 */
function callMeta(audited: object, options: ToolExecutionOptions<unknown> | undefined, thisArg: CallContext): CallMeta & { thisArg: CallContext } {
  const approval = approvalOf(options);
  const resumed = approval !== undefined && 'previewDecision' in audited;
  return { callId: options?.toolCallId, thisArg, ...(approval !== undefined ? { approval } : {}), ...(resumed ? ({ resumed: true } as CallMeta) : {}) };
}

function plainExecute(audited: AuditedFunction<(this: CallContext, input: unknown) => unknown>, refusals: RefusalHandling): ExecuteFn {
  return function execute(input, options) {
    // A direct call without SDK options (a unit test, say) still gets a call id: core makes one.
    return audited.invokeWith(callMeta(audited, options, { options }), input).catch(refused(refusals));
  };
}

/** For `async *execute` tools: an async generator again, so the SDK still streams preliminary results. */
function streamingExecute(audited: AuditedFunction<(this: CallContext, input: unknown) => unknown>, refusals: RefusalHandling): ExecuteFn {
  return async function* execute(input, options) {
    const channel = new Channel<unknown>();
    const done = audited.invokeWith(callMeta(audited, options, { options, onPreliminary: (value: unknown) => channel.push(value) }), input);
    done.catch(refused(refusals)).then(
      () => channel.close(),
      (error: unknown) => channel.fail(error),
    );
    yield* channel;
  };
}

/**
 * The SDK hands `onInputAvailable` and `toModelOutput` the tool call's input, which with
 * tooltrail validating is now the model's raw input. They get it parsed, as without the
 * adapter (`needsApproval` too: see approval-gate.ts).
 */
function withParsedInput(next: ToolShape, t: ToolShape, parsed: (raw: unknown) => Promise<Parsed>): void {
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
