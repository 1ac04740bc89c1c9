import type { InferInteropZodOutput } from '@langchain/core/utils/types';
import type { PolicyRule, RetryOptions, ToolMaskingOptions, ToolType } from '@tooltrail/core';
import {
  ADAPTER_OPTION_KEYS,
  DEPRECATED_REFUSAL_OPTION_KEYS,
  optionKeys,
  type AdapterOptions,
  type DeprecatedRefusalOptions,
} from '@tooltrail/core/adapter';

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

/**
 * Options for one tool. `Args`: what its policy rules see as `call.args`. `onRefusal: 'throw'`
 * throws `AuditDeniedError` for a denial and LangChain's own `ToolInputParsingException` (with
 * the `AuditValidationError` as its `cause`) for invalid arguments, as the unaudited tool does.
 */
export interface LangChainToolOptions<Args = unknown> extends Omit<AdapterOptions, 'auditor'>, DeprecatedRefusalOptions {
  /** Rules for this tool, run after the auditor's rules (docs/policy.md). */
  policy?: PolicyRule<Args>[];
  /** tooltrail's own retries of the tool body; each attempt is a `tool_attempt` span. */
  retry?: RetryOptions;
  /** `gen_ai.tool.type`. Default `function`. */
  type?: ToolType;
  /** Masking for this tool's payloads, over the auditor's. */
  masking?: ToolMaskingOptions;
}

export interface AuditLangChainToolOptions<Args = unknown> extends LangChainToolOptions<Args>, Pick<AdapterOptions, 'auditor'> {}

export interface AuditLangChainToolsOptions extends AuditLangChainToolOptions {
  /** Options for single tools, by tool name; their policy runs after the common policy. */
  tools?: Record<string, LangChainToolOptions>;
}

/** @deprecated Use `AuditLangChainToolOptions`. */
export type AuditToolOptions<Args = unknown> = AuditLangChainToolOptions<Args>;

export const TOOL_OPTION_KEYS: readonly string[] = [
  ...optionKeys<Omit<LangChainToolOptions, keyof AdapterOptions | keyof DeprecatedRefusalOptions>>({ policy: true, retry: true, type: true, masking: true }),
  ...ADAPTER_OPTION_KEYS.filter((k) => k !== 'auditor'),
  ...DEPRECATED_REFUSAL_OPTION_KEYS,
];
export const AUDIT_TOOL_KEYS: readonly string[] = ['auditor', ...TOOL_OPTION_KEYS];
export const AUDIT_TOOLS_KEYS: readonly string[] = [...AUDIT_TOOL_KEYS, 'tools'];
