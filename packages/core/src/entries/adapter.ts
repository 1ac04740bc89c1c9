/**
 * `@tooltrail/core/adapter`: the contract every framework adapter is built on. An app has no
 * need of it; it is what `@tooltrail/ai-sdk`, `/openai-agents`, `/langchain` and `/mcp` share:
 * the common options and their refusal handling, the option-key check, refusal detection that
 * works across core's builds, the auditor lookup, and one-time deprecation warnings.
 */
export { unknownOptionKeys } from '../adapter/unknown-option-keys.js';
export { isRefusal, isDenial, defaultRefusalMessage } from '../contract/refusal.js';
export type { RefusedCall } from '../contract/refusal.js';
export { ADAPTER_OPTION_KEYS, DEPRECATED_REFUSAL_OPTION_KEYS, refusalHandling } from '../adapter/refusal-options.js';
export type { AdapterOptions, DeprecatedRefusalOptions, RefusalHandling, RefusalMode } from '../adapter/refusal-options.js';
export { resolveAuditor, withAdapterAudit, loggerOf } from '../adapter/resolve-auditor.js';
export { isAuditor } from '../auditor/brand.js';
export type { ApprovalRecord } from '../call/approval.js';
export type { RefusedCallInput } from '../call/refused.js';
export { warnDeprecated, warnDeprecatedOption, resetDeprecationWarnings } from '../adapter/deprecation.js';
export { checkAdapterOptions, optionKeys } from '../adapter/check-options.js';
export type { PerToolOptionsCheck } from '../adapter/check-options.js';
export { asksFramework, hasApprovalHandler, previewOf, recordPending } from '../adapter/ask-routing.js';
export type { ApprovalRoute, PreviewedDecision } from '../adapter/ask-routing.js';
