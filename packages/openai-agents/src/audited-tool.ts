import {
  tool as sdkTool,
  type FunctionTool,
  type RunContext,
  type ToolInputParameters,
  type ToolOptions as SdkToolOptions,
  type ToolOutputSchema,
  type UnknownContext,
} from '@openai/agents';
import { AuditConfigError, type ArgumentSchema, type AuditedFunction, type CallMeta, type SchemaResult, type ToolOptions as CoreToolOptions } from '@tooltrail/core';
import { isRefusal, refusalHandling, withAdapterAudit, type RefusedCall } from '@tooltrail/core/adapter';
import { RULE_APPROVAL } from '@tooltrail/core/semconv';
import { approvalGate } from './approval-gate.js';
import { approvalRecord } from './approvals.js';
import { callStore, hasOwnDecision, newCallState, proposalOf, registry, takeDecision, wasPending, type AuditedBody, type CallState } from './call-state.js';
import { inputIssues, isSafeParser } from './issues.js';
import { AUDIT_OPTION_KEYS, checkOptions, type AuditOpenAIAgentsToolOptions } from './options.js';

/**
 * @deprecated Approvals are no longer policy rules: a rejected call is recorded with
 * `tooltrail.policy.rule = tooltrail.approval` (this constant's value now) and the approval
 * itself under `tooltrail.approval.*`.
 */
export const APPROVAL_REJECTED_RULE = RULE_APPROVAL;
/**
 * @deprecated An approved call no longer records a policy rule; read
 * `tooltrail.approval.decision = approved` and `tooltrail.approval.by` instead.
 */
export const APPROVAL_APPROVED_RULE = 'approval.approved';

/** What the SDK answers for a tool error when the tool has no `errorFunction` (tool.ts, 0.20). */
const SDK_DEFAULT_TOOL_ERROR = 'An error occurred while running the tool. Please try again.';

const FN = 'auditOpenAIAgentsTool()';
const APPROVAL_ROUTES: readonly unknown[] = ['auto', 'framework', 'handler'];

type Details = Parameters<FunctionTool['invoke']>[2];
type Ctx = RunContext<unknown>;

/** The `tool()` options the adapter reads or replaces, without the SDK's per-mode typing. */
interface LooseToolOptions {
  name?: string;
  description?: string;
  parameters?: unknown;
  strict?: boolean;
  outputSchema?: unknown;
  execute: (input: unknown, context?: Ctx, details?: Details) => unknown;
  errorFunction?: ((context: Ctx, error: unknown, details?: Details) => unknown) | null;
  needsApproval?: boolean | ((context: Ctx, input: unknown, callId?: string) => Promise<boolean>);
}

/** The tool's body as core wraps it: the app's `execute`, with the SDK's context and details. */
function bodyOf(execute: LooseToolOptions['execute']): AuditedBody {
  return async function openaiAgentsTool(this: CallState, args: unknown): Promise<unknown> {
    return execute(args, this.runContext as Ctx, this.details as Details);
  };
}

/**
 * What core is told of one call: its id, the model's proposal, the call's facts as `this`, the
 * approval, and whether it resumes a call that stopped for approval (`tooltrail.approval.resumed`;
 * told only to a core that knows the flag, which has `previewDecision`).
 */
function metaOf(state: CallState, proposed: unknown, audited: object): CallMeta & { thisArg: CallState } {
  const resumed = state.resumed && state.approval !== undefined && 'previewDecision' in audited;
  return {
    callId: state.callId,
    proposedArgs: proposed,
    thisArg: state,
    ...(state.approval !== undefined ? { approval: state.approval } : {}),
    ...(resumed ? ({ resumed: true } as CallMeta) : {}),
  };
}

/**
 * The decision on a call the SDK is about to run: one made through `approveToolCall`, else the
 * SDK's own record that the call (or the tool, for the run) was approved with `state.approve()`.
 */
function approvalOf(runContext: unknown, callId: string | undefined, tool: string): CallState['approval'] {
  const made = takeDecision(runContext, callId, tool);
  if (made !== undefined || callId === undefined) return made;
  try {
    const approved = (runContext as Partial<Ctx> | undefined)?.isToolApproved?.({ toolName: tool, callId });
    return approved === true ? approvalRecord('approved') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `tool()` from `@openai/agents`, audited: the same options, and a `FunctionTool` the SDK runs
 * as it runs its own. Every call is recorded by tooltrail, whatever its outcome: the SDK's tool
 * call id, the model's arguments (the raw JSON) as proposed, the parsed arguments `execute`
 * receives as executed, policy decisions, validation failures, errors, retries, and the
 * decision of a person in the SDK's approval flow.
 *
 * The one-line change: `import { auditOpenAIAgentsTool as tool } from '@tooltrail/openai-agents'`.
 */
export function auditOpenAIAgentsTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
>(
  options: SdkToolOptions<TParameters, Context, TOutputSchema>,
  audit: AuditOpenAIAgentsToolOptions = {},
): ReturnType<typeof sdkTool<TParameters, Context, Result, TOutputSchema>> {
  const o = options as unknown as LooseToolOptions;
  if (typeof o !== 'object' || o === null || typeof o.execute !== 'function') {
    const made = typeof o === 'object' && o !== null && typeof (o as { invoke?: unknown }).invoke === 'function';
    throw new AuditConfigError(
      made
        ? `${FN} takes the options you would pass to tool({ ... }), not a tool made by tool(): a made tool hides its execute function and turns its errors into text, so its calls could not be recorded faithfully`
        : `${FN} needs the options of tool({ ... }) with an execute function`,
    );
  }
  checkOptions(FN, audit, AUDIT_OPTION_KEYS);
  if (audit.approvals !== undefined && !APPROVAL_ROUTES.includes(audit.approvals)) {
    throw new AuditConfigError(`${FN}: approvals must be 'auto', 'framework' or 'handler', got ${String(audit.approvals)}`);
  }
  const refusals = refusalHandling(audit, '@tooltrail/openai-agents', FN);
  const userExecute = o.execute;
  const userErrorFunction = o.errorFunction;
  const hasOutputSchema = o.outputSchema !== undefined;
  const parameters = o.parameters;
  const name = o.name ?? userExecute.name;

  /** A refused call as the model reads it, or thrown when the app asked for that. */
  const refusalResult = (error: RefusedCall, runContext: Ctx, details: Details): unknown => {
    if (refusals.modeFor(error) === 'throw') throw error;
    // A structured tool's result must match its output schema: only the app can build one.
    if (hasOutputSchema) {
      if (typeof userErrorFunction === 'function') return userErrorFunction(runContext, error, details);
      throw error;
    }
    return refusals.format(error);
  };

  /** The tool's own error, handled as the SDK would have without the adapter. */
  const toolErrorResult = (error: unknown, runContext: Ctx, details: Details): unknown => {
    if (typeof userErrorFunction === 'function') return userErrorFunction(runContext, error, details);
    if (userErrorFunction === null || hasOutputSchema) throw error;
    return SDK_DEFAULT_TOOL_ERROR;
  };

  let audited: AuditedFunction<AuditedBody> | undefined;
  const auditedFn = (): AuditedFunction<AuditedBody> => audited as AuditedFunction<AuditedBody>;

  const execute = (input: unknown, runContext?: Ctx, details?: Details): Promise<unknown> => {
    const state =
      callStore.getStore() ??
      newCallState(details?.toolCall?.callId, details?.toolCall?.arguments ?? JSON.stringify(input) ?? '', runContext, details);
    state.entered = true;
    state.runContext = runContext;
    state.details = details;
    state.argument = input;
    return callStore.run(state, () =>
      auditedFn().invokeWith(metaOf(state, proposalOf(state.input), auditedFn()), input),
    );
  };

  const errorFunction = async (runContext: Ctx, error: unknown, details?: Details): Promise<unknown> => {
    if (isRefusal(error)) return refusalResult(error, runContext, details);
    const state = callStore.getStore();
    if (state !== undefined && !state.entered) {
      // The SDK's parser refused the model's input before `execute`: record the call as invalid.
      state.entered = true;
      state.invalidIssues = inputIssues(parameters, state.input, error);
      const proposed = proposalOf(state.input);
      state.argument = proposed;
      try {
        await auditedFn().invokeWith(metaOf(state, proposed, auditedFn()), proposed);
      } catch (refused) {
        if (isRefusal(refused)) return refusalResult(refused, runContext, details);
        throw refused;
      }
    }
    return toolErrorResult(error, runContext, details);
  };

  const needsApproval = approvalGate({
    name,
    description: o.description,
    parameters,
    strict: o.strict,
    own: o.needsApproval,
    audited: auditedFn,
    options: audit,
    route: audit.approvals ?? 'auto',
    fn: FN,
  });

  const inner = sdkTool({ ...(o as object), name, execute, errorFunction, needsApproval } as never) as unknown as FunctionTool;

  // The SDK has parsed the input already; this schema only reports what the SDK refused, and
  // validates a policy rewrite as the model's input would be. `_zod` lets core find the fields
  // the zod schema marks `sensitive()`.
  const schema: ArgumentSchema & { readonly _zod?: unknown } = {
    safeParse(value: unknown): SchemaResult {
      const state = callStore.getStore();
      if (state?.invalidIssues !== undefined) return { success: false, error: { issues: state.invalidIssues } };
      if (state !== undefined && value !== state.argument && isSafeParser(parameters)) return parameters.safeParse(value);
      return { success: true, data: value };
    },
    get _zod(): unknown {
      return (parameters as { _zod?: unknown } | null | undefined)?._zod;
    },
  };
  const coreOptions: CoreToolOptions<AuditedBody> = {
    name: inner.name,
    description: inner.description,
    schema,
    ...(audit.policy !== undefined ? { policy: audit.policy } : {}),
    ...(audit.retry !== undefined ? { retry: audit.retry } : {}),
    ...(audit.type !== undefined ? { type: audit.type } : {}),
    ...(audit.masking !== undefined ? { masking: audit.masking } : {}),
  };
  const body = bodyOf(userExecute);
  audited = withAdapterAudit(audit, body, coreOptions, FN);

  const invoke = (runContext: Ctx, input: string, details?: Details): Promise<unknown> => {
    const callId = details?.toolCall?.callId;
    const state = newCallState(callId, input, runContext, details);
    // Resumed: approved for this very call (approveToolCall), or stopped for it in this process.
    state.resumed = hasOwnDecision(runContext, callId) || wasPending(runContext, callId);
    state.approval = approvalOf(runContext, callId, inner.name);
    return callStore.run(state, () => inner.invoke(runContext, input, details));
  };
  const wrapped = { ...inner, invoke } as FunctionTool;
  registry.set(invoke, { name: inner.name, audited });
  return wrapped as unknown as ReturnType<typeof sdkTool<TParameters, Context, Result, TOutputSchema>>;
}

/** Whether a tool was made by `auditOpenAIAgentsTool()` (of any build of this package). */
export function isAuditedTool(value: unknown): boolean {
  const invoke = (value as { invoke?: unknown } | null | undefined)?.invoke;
  return typeof invoke === 'function' && registry.has(invoke);
}
