export { createAuditor, setDefaultAuditor, getDefaultAuditor, withAudit, auditTools, auditRun } from './default-auditor.js';
export type { Auditor, AuditedFunction, AuditedTools, AuditToolsOptions, AuditStats } from './auditor.js';
export type { AuditorOptions } from './config.js';
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
} from './errors.js';
export type { ValidationIssue } from './errors.js';
export { unknownOptionKeys } from './option-keys.js';
export type {
  ToolOptions,
  ToolArgs,
  ToolFunction,
  ToolType,
  CallMeta,
  ArgumentSchema,
  SchemaResult,
  SchemaIssue,
} from './wrapper/tool-definition.js';
export type { RetryOptions } from './wrapper/retry.js';
export type { PayloadEncoder, PayloadField, EncodeContext } from './record/payload-encoder.js';
export type { EncodeReport, MaskTally, PartialPayload } from './record/encode-report.js';
export { sensitive } from './masking/schema.js';
export type { SensitiveOptions } from './masking/schema.js';
export { createMaskingEncoder } from './masking/encoder.js';
export type { MaskingEncoder } from './masking/encoder.js';
export type { MaskingOptions, ToolMaskingOptions, ToolMaskingSpec, CustomDetector } from './masking/plan.js';
export type { MaskStrategy } from './masking/detectors.js';
export type { AuditLogger, SinkStats } from './export/sink.js';
export type { BatchingSinkOptions } from './export/batching-sink.js';
export { toSafeJson } from './serialize/safe-json.js';
export { encodeTraceRequest } from './export/otlp-json.js';
export * as semconv from './semconv.js';
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
export { isRefusal, isDenial, defaultRefusalMessage } from './refusal.js';
export type { RefusedCall } from './refusal.js';
