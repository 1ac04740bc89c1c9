import type { PolicyRule, RetryOptions, ToolMaskingOptions, ToolType } from '@tooltrail/core';
import type { ApprovalRoute } from '@tooltrail/core/adapter';
import {
  ADAPTER_OPTION_KEYS,
  DEPRECATED_REFUSAL_OPTION_KEYS,
  checkAdapterOptions,
  optionKeys,
  type AdapterOptions,
  type DeprecatedRefusalOptions,
} from '@tooltrail/core/adapter';

export { optionKeys };

/**
 * Options of `auditOpenAIAgentsTool`. `onRefusal: 'throw'`: the refusal propagates and the SDK
 * fails the run (`ToolCallError`); `result` (default): the model reads an error result and the
 * run goes on.
 */
export interface AuditOpenAIAgentsToolOptions extends AdapterOptions, DeprecatedRefusalOptions {
  /** Rules for this tool, run after the auditor's rules (docs/policy.md). */
  policy?: PolicyRule[];
  /** tooltrail's own retries of the tool body; each attempt is a `tool_attempt` span. */
  retry?: RetryOptions;
  /** `gen_ai.tool.type`. Default `function`. */
  type?: ToolType;
  /** Masking for this tool's payloads, over the auditor's. */
  masking?: ToolMaskingOptions;
  /**
   * Who answers a call the policy says to `ask` about: `'auto'` (default) the auditor's
   * approval handler when one is configured, else the SDK's approval flow (the run stops with an
   * interruption, recorded as pending approval); `'framework'` always the SDK's flow;
   * `'handler'` never the SDK's flow (core asks its handler, or denies when there is none).
   */
  approvals?: ApprovalRoute;
}

/** @deprecated Use `AuditOpenAIAgentsToolOptions`. */
export type AuditedToolOptions = AuditOpenAIAgentsToolOptions;

export const AUDIT_OPTION_KEYS: readonly string[] = [
  ...ADAPTER_OPTION_KEYS,
  ...optionKeys<Omit<AuditOpenAIAgentsToolOptions, keyof AdapterOptions | keyof DeprecatedRefusalOptions>>({ policy: true, retry: true, type: true, masking: true, approvals: true }),
  ...DEPRECATED_REFUSAL_OPTION_KEYS,
];

/**
 * Unknown keys in one of this adapter's options objects (and in its `retry` and `masking`) are
 * errors, each naming the nearest valid name: a typo would otherwise be silently ignored.
 */
export function checkOptions(fn: string, options: unknown, valid: readonly string[]): void {
  checkAdapterOptions(fn, options, valid);
}
