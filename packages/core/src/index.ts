export { createAuditor, setDefaultAuditor, getDefaultAuditor, withAudit, auditTools, auditRun } from './auditor/default-auditor.js';
export type { Auditor, AuditedFunction, AuditedTools, AuditToolsOptions, AuditStats } from './auditor/auditor.js';
export type { AuditorOptions } from './auditor/config.js';
export { isAuditor } from './auditor/brand.js';
export type { ApprovalRecord } from './call/approval.js';
export type { RefusedCallInput } from './call/refused.js';
export { currentRun, currentCall } from './identity/run-context.js';
export type {
  RunIdentity,
  RunIdentityInput,
  CallInfo,
  Principal,
  AgentIdentity,
  RunAttributeValue,
} from './identity/run-context.js';
export { allow, deny, rewrite } from './policy/decisions.js';
export type {
  PolicyRule,
  PolicyDecision,
  AllowDecision,
  DenyDecision,
  RewriteDecision,
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
export type { MaskStrategy } from './payload/masking/detectors.js';
export type { AuditLogger } from './contract/logger.js';
export type { SinkStats } from './contract/record-sink.js';
export type { BatchingSinkOptions } from './export/batching-sink.js';
export { toSafeJson } from './payload/safe-json.js';
export { encodeTraceRequest } from './export/wire/otlp-json.js';
export * as semconv from './contract/semconv.js';
export {
  canonicalRecordJson,
  canonicalCheckpointJson,
  recordHash,
  recordMac,
  GENESIS_HASH,
  RECORD_VERSION,
  CHECKPOINT_VERSION,
} from './integrity/canonical.js';
export type { CanonicalRecord, CanonicalValue, CheckpointContent } from './integrity/canonical.js';
export { generateSigningKeyPair, keyId, loadPublicKey, loadSigningKey } from './integrity/keys.js';
/** Reads a key or token file without blocking on a FIFO or reading a device without end. */
export { readSmallFileSync, SMALL_FILE_MAX_BYTES } from './files/read-small-file.js';
/** mkdir -p that fails instead of looping (Node 20's recursive mkdir never returns under /proc). */
export { makeDirSync } from './files/make-dir.js';
export { isRefusal, isDenial, defaultRefusalMessage } from './contract/refusal.js';
export type { RefusedCall } from './contract/refusal.js';
