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
export type {
  ToolOptions,
  ToolFunction,
  ToolType,
  CallMeta,
  ArgumentSchema,
  SchemaResult,
  SchemaIssue,
} from './wrapper/tool-definition.js';
export type { RetryOptions } from './wrapper/retry.js';
export type { PayloadEncoder, PayloadField, EncodeContext } from './record/payload-encoder.js';
export type { AuditLogger, SinkStats } from './export/sink.js';
export type { BatchingSinkOptions } from './export/batching-sink.js';
export { toSafeJson } from './serialize/safe-json.js';
export { encodeTraceRequest } from './export/otlp-json.js';
export * as semconv from './semconv.js';
