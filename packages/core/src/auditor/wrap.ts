import { AuditConfigError } from '../contract/errors.js';
import { checkKeys } from '../contract/option-keys.js';
import type { RefusedCall } from '../contract/refusal.js';
import { checkApproval } from '../call/approval.js';
import { checkRefusedInput, type RefusedCallInput } from '../call/refused.js';
import { CALL_META_KEYS, defineTool, TOOL_OPTION_KEYS, type CallMeta, type ToolDefinition, type ToolFunction, type ToolOptions } from '../call/tool-definition.js';
import type { PreviewDecision } from '../call/approval-handler.js';
import type { AuditedFunction, AuditedTools, AuditToolsOptions } from './types.js';

// Wrapping: a tool function becomes an AuditedFunction whose calls go to an auditor found at
// call time, and a registry object becomes one of audited tools.

/** How a wrapper finds its auditor: fixed, or the process default looked up at call time. */
export type AuditorResolver = () => CallTarget;

/** What a wrapper asks of its auditor (of this build or the other one: both have these methods). */
export interface CallTarget {
  invoke(def: ToolDefinition, fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown>;
  recordRefused(def: ToolDefinition, input: RefusedCallInput): RefusedCall;
  /** Optional: an auditor of an older build has no preview. */
  preview?(def: ToolDefinition, args: unknown, callId: string | undefined): Promise<PreviewDecision>;
}

export function makeAudited<F extends ToolFunction>(
  resolve: AuditorResolver,
  fn: F,
  def: ToolDefinition,
): AuditedFunction<F> {
  const target = fn as unknown as (...args: unknown[]) => unknown;
  const invoke = (thisArg: unknown, args: unknown[], meta: CallMeta | undefined): Promise<unknown> => {
    let auditor: CallTarget;
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
    previewDecision: {
      value: (args: unknown, meta?: { callId?: string }): Promise<PreviewDecision> => {
        try {
          const callId = previewCallId(def.name, meta);
          const auditor = resolve();
          if (typeof auditor.preview !== 'function') throw new AuditConfigError(`tool "${def.name}": this auditor (an older build of @tooltrail/core) cannot preview decisions`);
          return auditor.preview(def, args, callId);
        } catch (err) {
          return Promise.reject(err);
        }
      },
    },
  });
  return audited;
}

function previewCallId(tool: string, meta: unknown): string | undefined {
  if (meta === undefined) return undefined;
  const issues: string[] = [];
  if (typeof meta !== 'object' || meta === null) issues.push('meta must be an object { callId? }');
  else {
    checkKeys(meta, ['callId'], '', issues);
    const id = (meta as { callId?: unknown }).callId;
    if (id !== undefined && typeof id !== 'string') issues.push('callId must be a string');
  }
  if (issues.length > 0) throw new AuditConfigError(`tool "${tool}": invalid previewDecision() options`, issues);
  return (meta as { callId?: string }).callId;
}

function checkMeta(tool: string, meta: unknown): void {
  if (typeof meta !== 'object' || meta === null) throw new AuditConfigError(`tool "${tool}": invokeWith() needs an options object first`);
  const issues: string[] = [];
  checkKeys(meta, CALL_META_KEYS, '', issues);
  const approval = (meta as CallMeta).approval;
  if (approval !== undefined) checkApproval(approval, 'approval', issues);
  const resumed = (meta as CallMeta).resumed;
  if (resumed !== undefined && typeof resumed !== 'boolean') issues.push('resumed must be a boolean');
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
