import type { Attributes } from '@opentelemetry/api';
import { AuditConfigError, type ValidationIssue } from '../errors.js';
import type { PolicyRule } from '../policy/decisions.js';
import { normalizeRetry, type RetryOptions, type RetryPolicy } from './retry.js';
import { toolMaskingSpec, type ToolMaskingOptions, type ToolMaskingSpec } from '../masking/plan.js';

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
}

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
  /** Span names, built once. */
  readonly spanName: string;
  readonly attemptSpanName: string;
  readonly intentSpanName: string;
}

export function defineTool(fn: unknown, options: ToolOptions | undefined): ToolDefinition {
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
    spanName: `execute_tool ${name}`,
    attemptSpanName: `tool_attempt ${name}`,
    intentSpanName: `tool_intent ${name}`,
  });
}

export function toValidationIssues(issues: ReadonlyArray<SchemaIssue>): ValidationIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    code: i.code ?? 'invalid',
    message: i.message,
  }));
}
