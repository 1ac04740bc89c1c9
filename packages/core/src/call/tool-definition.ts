import type { Attributes } from '@opentelemetry/api';
import { AuditConfigError, type ValidationIssue } from '../contract/errors.js';
import type { PolicyRule } from '../policy/decisions.js';
import type { ApprovalRecord } from './approval.js';
import { normalizeRetry, RETRY_KEYS, type RetryOptions, type RetryPolicy } from './retry.js';
import { toolMaskingOptionsSchema, toolMaskingSpec, type ToolMaskingOptions, type ToolMaskingSpec } from '../payload/masking/plan.js';
import { checkKeys, MAX_TIMER_MS, unknownKeys } from '../contract/option-keys.js';
import { SPAN_NAME_ATTEMPT, SPAN_NAME_EXECUTE_TOOL, SPAN_NAME_INTENT, toolSpanName } from '../contract/semconv.js';

/** Any function a tool can be. `never[]` keeps the constraint free of `any`. */
export type ToolFunction = (...args: never[]) => unknown;

/**
 * What tooltrail needs of a schema: zod's `safeParse` (zod 3 and 4 both fit). The parsed value
 * is what executes, so zod's defaults and coercions are part of the recorded arguments.
 */
export interface ArgumentSchema {
  safeParse(input: unknown): SchemaResult;
  safeParseAsync?(input: unknown): Promise<SchemaResult>;
}
export type SchemaResult =
  | { success: true; data: unknown }
  | { success: false; error: { issues: ReadonlyArray<SchemaIssue> } };
export interface SchemaIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly code?: string | undefined;
  readonly message: string;
}

export type ToolType = 'function' | 'extension' | 'datastore';

/**
 * What a tool's policy rules see as `call.args`: its one argument, or the array of them;
 * `unknown` when the function type is not known (options written for any tool).
 */
export type ToolArgs<F extends ToolFunction> = ToolFunction extends F ? unknown : Parameters<F> extends [infer Only] ? Only : Parameters<F>;

export interface ToolOptions<F extends ToolFunction = ToolFunction> {
  /** Tool name as the model knows it. Defaults to the function's name. */
  name?: string;
  description?: string;
  /** `gen_ai.tool.type`. Default `function`. */
  type?: ToolType;
  /** Validates (and may transform) the arguments before policy and execution. */
  schema?: ArgumentSchema;
  retry?: RetryOptions;
  /** Rules for this tool only, run after the auditor's rules. */
  policy?: PolicyRule<ToolArgs<F>>[];
  /** Reads a caller-assigned call id from the arguments (framework adapters use this). */
  callId?: (...args: Parameters<F>) => string | undefined;
  /** Masking for this tool, over the auditor's: extra keys, detectors off, a digest-only result. */
  masking?: ToolMaskingOptions;
  /** This tool's deadline for its (async) schema and policy rules; default the auditor's `policyTimeoutMs`. */
  policyTimeoutMs?: number;
}

/** Every key of ToolOptions: anything else is a typo, reported as an error. */
export const TOOL_OPTION_KEYS: readonly string[] = ['name', 'description', 'type', 'schema', 'retry', 'policy', 'callId', 'masking', 'policyTimeoutMs'];
/** Every key of CallMeta (with `invokeWith`'s `thisArg`). */
export const CALL_META_KEYS: readonly string[] = ['callId', 'proposedArgs', 'attributes', 'approval', 'resumed', 'thisArg'];

/** Per-call facts a framework adapter knows and a plain caller does not. */
export interface CallMeta {
  /** The framework's id for this call; re-invoking with the same id counts as a retry. */
  callId?: string;
  /** The arguments as the model proposed them, before the framework parsed them. */
  proposedArgs?: unknown;
  /**
   * Facts an adapter knows about the call (`mcp.method.name`, `mcp.session.id`, ...), set on the
   * `execute_tool` span from its start, so denied and invalid calls carry them too, and copied to
   * the strict-mode intent record. Names core writes itself are ignored: core's values stand.
   */
  attributes?: Attributes;
  /**
   * A person's (or a framework approval step's) decision on this call, recorded on its span.
   * `rejected`: the body never runs and the call is denied with rule `tooltrail.approval`.
   */
  approval?: ApprovalRecord;
  /**
   * This call resumes one recorded with `recordPendingApproval` (same call id), possibly by an
   * earlier process: recorded as `tooltrail.approval.resumed`. Calls whose id this auditor
   * recorded pending are marked so without it.
   */
  resumed?: boolean;
}

/** A tool's options, checked and resolved once at wrap time. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string | undefined;
  readonly type: ToolType;
  readonly schema: ArgumentSchema | undefined;
  readonly retry: RetryPolicy;
  readonly policy: readonly PolicyRule[];
  readonly callId: ((...args: never[]) => string | undefined) | undefined;
  /** The tool's masking options and its schema's sensitive paths; undefined when it adds none. */
  readonly masking: ToolMaskingSpec | undefined;
  /** The tool's own policy deadline; undefined: the auditor's. */
  readonly policyTimeoutMs: number | undefined;
  /** Span names, built once. */
  readonly spanName: string;
  readonly attemptSpanName: string;
  readonly intentSpanName: string;
}

/** Unknown keys anywhere in a tool's options, and values of the wrong kind, are errors at wrap time. */
function checkToolOptions(name: string, options: ToolOptions | undefined, prefix: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw new AuditConfigError(`tool "${name}": options must be an object`);
  const issues: string[] = [];
  checkKeys(options, TOOL_OPTION_KEYS, prefix, issues);
  const retry = options.retry as unknown;
  if (retry !== undefined) {
    if (typeof retry !== 'object' || retry === null) issues.push(`${prefix}retry must be an object`);
    else {
      checkKeys(retry, RETRY_KEYS, `${prefix}retry.`, issues);
      const r = retry as RetryOptions;
      if (r.attempts !== undefined && !(Number.isInteger(r.attempts) && r.attempts >= 1)) issues.push(`${prefix}retry.attempts must be an integer of at least 1`);
      for (const k of ['backoffMs', 'maxBackoffMs'] as const) {
        const v = r[k];
        if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= MAX_TIMER_MS)) issues.push(`${prefix}retry.${k} must be a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
      }
      if (r.retryOn !== undefined && typeof r.retryOn !== 'function') issues.push(`${prefix}retry.retryOn must be a function`);
    }
  }
  if (options.masking !== undefined && typeof options.masking === 'object' && options.masking !== null) {
    issues.push(...unknownKeys(toolMaskingOptionsSchema, options.masking, `${prefix}masking.`));
  }
  const t = options.policyTimeoutMs;
  if (t !== undefined && !(typeof t === 'number' && t > 0 && t <= MAX_TIMER_MS)) issues.push(`${prefix}policyTimeoutMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}`);
  if (options.callId !== undefined && typeof options.callId !== 'function') issues.push(`${prefix}callId must be a function`);
  if (options.description !== undefined && typeof options.description !== 'string') issues.push(`${prefix}description must be a string`);
  if (issues.length > 0) throw new AuditConfigError(`tool "${name}": invalid options`, issues);
}

/** `prefix`: where the options sit, for messages (`tools.send_email.` inside auditTools()). */
export function defineTool(fn: unknown, options: ToolOptions | undefined, prefix = ''): ToolDefinition {
  if (typeof fn !== 'function') {
    throw new AuditConfigError(`withAudit() needs a function, got ${fn === null ? 'null' : typeof fn}`);
  }
  const fromFn = fn.name.startsWith('bound ') ? fn.name.slice(6) : fn.name;
  const name = options?.name ?? fromFn;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new AuditConfigError(
      'withAudit() needs a tool name: pass { name } or wrap a named function (anonymous arrow functions have no name)',
    );
  }
  checkToolOptions(name, options, prefix);
  if (options?.schema !== undefined && typeof options.schema.safeParse !== 'function') {
    throw new AuditConfigError(`tool "${name}": schema must have a safeParse() method (a zod schema)`);
  }
  if (options?.policy !== undefined && !options.policy.every((r) => typeof r === 'function')) {
    throw new AuditConfigError(`tool "${name}": every policy rule must be a function`);
  }
  const type = options?.type ?? 'function';
  if (type !== 'function' && type !== 'extension' && type !== 'datastore') {
    throw new AuditConfigError(`tool "${name}": type must be function, extension or datastore`);
  }
  return Object.freeze({
    name,
    description: options?.description,
    type,
    schema: options?.schema,
    retry: normalizeRetry(options?.retry),
    policy: Object.freeze([...((options?.policy ?? []) as PolicyRule[])]),
    callId: options?.callId as ToolDefinition['callId'],
    masking: toolMaskingSpec(name, options?.masking, options?.schema),
    policyTimeoutMs: options?.policyTimeoutMs,
    spanName: toolSpanName(SPAN_NAME_EXECUTE_TOOL, name),
    attemptSpanName: toolSpanName(SPAN_NAME_ATTEMPT, name),
    intentSpanName: toolSpanName(SPAN_NAME_INTENT, name),
  });
}

export function toValidationIssues(issues: ReadonlyArray<SchemaIssue>): ValidationIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    code: i.code ?? 'invalid',
    message: i.message,
  }));
}
