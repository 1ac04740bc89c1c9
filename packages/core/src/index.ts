export { createAuditor, setDefaultAuditor, getDefaultAuditor, withAudit, auditTools, auditRun } from './auditor/default-auditor.js';
export type { Auditor, AuditedFunction, AuditedTools, AuditToolsOptions, AuditStats } from './auditor/auditor.js';
export type { AuditorOptions } from './auditor/config.js';
export { isAuditor } from './auditor/brand.js';
export type { ApprovalRecord } from './call/approval.js';
export type { RefusedCallInput } from './call/refused.js';
export type { AuditEventInput } from './call/event-record.js';
export type { ApprovalHandler, ApprovalRequest, ApprovalAnswer, ApprovalOptions, PendingApprovalInput, PreviewDecision } from './call/approval-handler.js';
export type { FilePolicyOptions, FilePolicyStatus } from './policy/file/file-policy.js';
export { currentRun, currentCall } from './identity/run-context.js';
export {
  mintRunToken,
  verifyRunToken,
  RUN_TOKEN_PREFIX,
  RUN_TOKEN_META_KEY,
  DEFAULT_RUN_TOKEN_TTL_MS,
  MAX_RUN_TOKEN_TTL_MS,
  RUN_TOKEN_CLOCK_SKEW_MS,
} from './identity/run-token.js';
export type { RunTokenInput, RunTokenClaims, RunTokenRejection, RunTokenVerification } from './identity/run-token.js';
export { runTokenKeyId, publicRunTokenKey, privateRunTokenKey } from './identity/run-token-keys.js';
export type { RunTokenKey } from './identity/run-token-keys.js';
export { currentRunToken } from './identity/run-token-source.js';
export type {
  RunIdentity,
  RunIdentityInput,
  CallInfo,
  Principal,
  AgentIdentity,
  RunAttributeValue,
} from './identity/run-context.js';
export { allow, deny, rewrite, ask } from './policy/decisions.js';
export type {
  PolicyRule,
  PolicyDecision,
  AllowDecision,
  DenyDecision,
  RewriteDecision,
  AskDecision,
  ToolCall,
  DecisionOptions,
} from './policy/decisions.js';
export {
  AuditError,
  AuditDeniedError,
  AuditValidationError,
  AuditConfigError,
  AuditUnavailableError,
} from './contract/errors.js';
export type { ValidationIssue } from './contract/errors.js';
export { unknownOptionKeys } from './adapter/unknown-option-keys.js';
export type {
  ToolOptions,
  ToolArgs,
  ToolFunction,
  ToolType,
  CallMeta,
  ArgumentSchema,
  SchemaResult,
  SchemaIssue,
} from './call/tool-definition.js';
export type { RetryOptions } from './call/retry.js';
export type { PayloadEncoder, PayloadField, EncodeContext } from './payload/payload-encoder.js';
export type { EncodeReport, MaskTally, PartialPayload } from './payload/encode-report.js';
export { sensitive } from './payload/masking/schema.js';
export type { SensitiveOptions } from './payload/masking/schema.js';
export { createMaskingEncoder } from './payload/masking/encoder.js';
export type { MaskingEncoder } from './payload/masking/encoder.js';
export type { MaskingOptions, ToolMaskingOptions, ToolMaskingSpec, CustomDetector } from './payload/masking/plan.js';
export type { MaskStrategy } from './payload/masking/catalog/detector-def.js';
/** The ids of the built-in value detectors (docs/masking.md lists each), for `masking.disable` and tooling. */
export { BUILTIN_DETECTOR_IDS } from './payload/masking/catalog/builtin.js';
export type { AuditLogger } from './contract/logger.js';
export type { SinkStats } from './contract/record-sink.js';
export type { BatchingSinkOptions } from './export/batching-sink.js';
export { toSafeJson } from './payload/safe-json.js';
export { encodeTraceRequest } from './export/wire/otlp-json.js';
export * as semconv from './contract/semconv.js';
// The verifier's helpers, kept at the root for code written against 0.1; new code imports
// `@tooltrail/core/integrity`.
export * from './entries/integrity.js';
export { isRefusal, isDenial, defaultRefusalMessage } from './contract/refusal.js';
export type { RefusedCall } from './contract/refusal.js';
