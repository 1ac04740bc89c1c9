/**
 * Every attribute name tooltrail writes, in one place. The span schema is a public contract
 * (docs/span-schema.md): change a name here only on purpose, and update the doc with it.
 */

// OpenTelemetry GenAI semantic conventions (Development stability).
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const ATTR_GEN_AI_TOOL_DESCRIPTION = 'gen_ai.tool.description';
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';

// OpenTelemetry general registry.
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_USER_ID = 'user.id';
export const ATTR_SERVICE_NAME = 'service.name';

export const OPERATION_EXECUTE_TOOL = 'execute_tool';
export const OPERATION_INVOKE_AGENT = 'invoke_agent';

// tooltrail's own namespace.
export const ATTR_OUTCOME = 'tooltrail.outcome';
export const ATTR_DECISION = 'tooltrail.decision';
export const ATTR_POLICY_RULE = 'tooltrail.policy.rule';
export const ATTR_POLICY_REASON = 'tooltrail.policy.reason';
export const ATTR_POLICY_ERROR = 'tooltrail.policy.error';
/** The policy file's `id`, on every call the file evaluated (maps to the GenAI guardrail drafts' `policy.id`). */
export const ATTR_POLICY_ID = 'tooltrail.policy.id';
/** The policy file's version, `sha256:` + hex of its bytes as loaded (the drafts' `policy.version`). */
export const ATTR_POLICY_VERSION = 'tooltrail.policy.version';
export const ATTR_ATTEMPTS = 'tooltrail.attempts';
export const ATTR_ATTEMPT = 'tooltrail.attempt';
export const ATTR_ARGUMENTS_PROPOSED = 'tooltrail.arguments.proposed';
export const ATTR_ARGUMENTS_MUTATED = 'tooltrail.arguments.mutated';
export const ATTR_VALIDATION_ISSUES = 'tooltrail.validation.issues';
export const ATTR_RUN_ID = 'tooltrail.run.id';
export const ATTR_RUN_PARENT_ID = 'tooltrail.run.parent_id';
export const ATTR_PRINCIPAL_TYPE = 'tooltrail.principal.type';
export const ATTR_RUN_ATTRIBUTE_PREFIX = 'tooltrail.run.attr.';
export const ATTR_RETRY_DELAY_MS = 'tooltrail.retry.delay_ms';
/** On a call span: the auditor shut down while the call waited to retry, so no further attempt ran. */
export const ATTR_RETRY_CANCELLED = 'tooltrail.retry.cancelled';
/** On a run span ended by shutdown (or process exit) while the run's function was still running. */
export const ATTR_RUN_UNFINISHED = 'tooltrail.run.unfinished';

// Masking (docs/masking.md): what was masked, never the values.
export const ATTR_MASK_COUNT = 'tooltrail.mask.count';
export const ATTR_MASK_KINDS = 'tooltrail.mask.kinds';
export const ATTR_MASK_FAILED = 'tooltrail.mask.failed';
/** Payload fields (arguments, proposed, result, issues) cut to the size cap. */
export const ATTR_PAYLOAD_TRUNCATED = 'tooltrail.payload.truncated';
/** `tooltrail.payload.{field}.size` / `.hash`: a payload recorded as less than its full JSON. */
export const ATTR_PAYLOAD_PREFIX = 'tooltrail.payload.';
export const payloadSizeAttribute = (field: string): string => `${ATTR_PAYLOAD_PREFIX}${field}.size`;
export const payloadHashAttribute = (field: string): string => `${ATTR_PAYLOAD_PREFIX}${field}.hash`;
/** Recorded in place of a payload whose masking threw: the raw value is never recorded instead. */
export const MASKING_FAILED_MARKER = '[MASKING_FAILED]';
/** Recorded in place of a result a tool asked to keep only as a digest. */
export const PAYLOAD_DIGEST_MARKER = '[Digest]';
/**
 * On `tool_intent` records: `intent` (strict mode, written before the body runs) or `unfinished`
 * (the body was still running when the auditor shut down or the process exited).
 */
export const ATTR_RECORD = 'tooltrail.record';
export const RECORD_INTENT = 'intent';
export const RECORD_UNFINISHED = 'unfinished';
/** A record that is not a call (Auditor.recordEvent): its span is `tooltrail.<kind>`, its `tooltrail.record` the kind. */
export const EVENT_SPAN_PREFIX = 'tooltrail.';
/** recordEvent's kind for a tool definition seen changed under its pin (`tooltrail gateway`). */
export const RECORD_TOOL_CHANGED = 'tool_changed';

// Integrity chain (docs/integrity.md).
export const ATTR_STREAM_ID = 'tooltrail.stream.id';
export const ATTR_SEQ = 'tooltrail.seq';
export const ATTR_PREV_HASH = 'tooltrail.prev_hash';
export const ATTR_HASH = 'tooltrail.hash';
export const ATTR_MAC = 'tooltrail.mac';
export const ATTR_CHECKPOINT_INDEX = 'tooltrail.checkpoint.index';
export const ATTR_CHECKPOINT_SEQ_START = 'tooltrail.checkpoint.seq_start';
export const ATTR_CHECKPOINT_SEQ_END = 'tooltrail.checkpoint.seq_end';
export const ATTR_CHECKPOINT_LAST_HASH = 'tooltrail.checkpoint.last_hash';
export const ATTR_CHECKPOINT_PREV_SIGNATURE = 'tooltrail.checkpoint.prev_signature';
export const ATTR_CHECKPOINT_FINAL = 'tooltrail.checkpoint.final';
export const ATTR_CHECKPOINT_SIGNATURE = 'tooltrail.checkpoint.signature';
export const ATTR_CHECKPOINT_KEY_ID = 'tooltrail.checkpoint.key_id';
export const SPAN_NAME_CHECKPOINT = 'tooltrail.checkpoint';

// Stream start (seq 1 of every stream) and the stream lineage (docs/integrity.md).
export const SPAN_NAME_STREAM_START = 'tooltrail.stream_start';
/** ISO 8601 UTC, milliseconds: when the auditor started this stream. */
export const ATTR_STREAM_STARTED_AT = 'tooltrail.stream.started_at';
/** The id of the sequence of streams one service's auditors wrote through one spool folder. */
export const ATTR_STREAM_LINEAGE = 'tooltrail.stream.lineage';
/** The stream the lineage file named when this stream started (absent for a lineage's first stream). */
export const ATTR_STREAM_PREV_ID = 'tooltrail.stream.prev_id';
/** When that previous stream started (ISO 8601), present with prev_id. */
export const ATTR_STREAM_PREV_STARTED_AT = 'tooltrail.stream.prev_started_at';

export const ERROR_TYPE_DENIED = 'tooltrail.denied';
export const ERROR_TYPE_INVALID = 'tooltrail.invalid_arguments';
/** OpenTelemetry's fallback for an error whose type cannot be named (a thrown string, say). */
export const ERROR_TYPE_OTHER = '_OTHER';

export const RULE_REQUIRE_IDENTITY = 'tooltrail.require-identity';
export const RULE_POLICY_ERROR_PREFIX = 'tooltrail.policy-error:';
/** The deciding rule of a call denied because its policy rules did not decide within the deadline. */
export const RULE_POLICY_TIMEOUT = 'tooltrail.policy-timeout';
/** The deciding rule when the policy file's `default` decided (no rule of the file applied). */
export const RULE_POLICY_DEFAULT = 'tooltrail.policy-default';
/** Validation issue codes tooltrail writes itself: the schema threw, or did not settle in time. */
export const ISSUE_SCHEMA_ERROR = 'schema_error';
export const ISSUE_SCHEMA_TIMEOUT = 'schema_timeout';

export const SPAN_NAME_EXECUTE_TOOL = 'execute_tool';
export const SPAN_NAME_ATTEMPT = 'tool_attempt';
export const SPAN_NAME_INTENT = 'tool_intent';
export const SPAN_NAME_INVOKE_AGENT = 'invoke_agent';

export const TRACER_NAME = '@tooltrail/core';

/** A call held for approval by a framework that ends the run and resumes it later (recordPendingApproval). */
export const OUTCOME_PENDING_APPROVAL = 'pending_approval';
export type Outcome = 'ok' | 'error' | 'denied' | 'invalid' | typeof OUTCOME_PENDING_APPROVAL;
export type DecisionKind = 'allow' | 'deny' | 'rewrite' | 'ask';

// OpenTelemetry's exception event and its attributes (semantic conventions, stable).
export const EVENT_EXCEPTION = 'exception';
export const ATTR_EXCEPTION_TYPE = 'exception.type';
export const ATTR_EXCEPTION_MESSAGE = 'exception.message';
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace';
export const ATTR_EXCEPTION_PREFIX = 'exception.';
/**
 * On an `exception` event: the thrown error's `cause` chain and AggregateError members, masked,
 * as a JSON array of `{at, type, message}` (`at`: `cause`, `cause.cause`, `errors[0]`, ...).
 */
export const ATTR_EXCEPTION_CAUSES = 'tooltrail.exception.causes';

/** The span name of a tool call's record of kind `kind` (`execute_tool`, `tool_attempt`, `tool_intent`). */
export const toolSpanName = (kind: string, tool: string): string => `${kind} ${tool}`;

// Approvals (a person, or a framework's approval step, decided on the call): an event on the
// call span with the whole decision, plus summary attributes on the span itself.
export const EVENT_APPROVAL = 'tooltrail.approval';
export const ATTR_APPROVAL_DECISION = 'tooltrail.approval.decision';
export const ATTR_APPROVAL_BY = 'tooltrail.approval.by';
export const ATTR_APPROVAL_AT = 'tooltrail.approval.at';
export const ATTR_APPROVAL_REASON = 'tooltrail.approval.reason';
export const ATTR_APPROVAL_SOURCE = 'tooltrail.approval.source';
export const APPROVAL_APPROVED = 'approved';
export const APPROVAL_REJECTED = 'rejected';
/** The deciding rule of a call a person (or a framework's approval step) rejected. */
export const RULE_APPROVAL = 'tooltrail.approval';
/** On a call a rule asked approval for: the rule that asked (kept when a rejection makes `tooltrail.approval` the deciding rule). */
export const ATTR_APPROVAL_RULE = 'tooltrail.approval.rule';
/** On a call that resumes one recorded `pending_approval` (same call id): true. */
export const ATTR_APPROVAL_RESUMED = 'tooltrail.approval.resumed';
/** The keyed hash of the arguments a call was held pending with, and of a resumed call's (call/args-binding.ts). */
export const ATTR_APPROVAL_ARGS_HASH = 'tooltrail.approval.args_hash';
/** On a resumed approved call: `matched`, `mismatch` (denied) or `unchecked` (nothing to check against). */
export const ATTR_APPROVAL_ARGS_CHECK = 'tooltrail.approval.args_check';
/** `tooltrail.approval.source` of decisions from the auditor's approval handler (and its deadline). */
export const APPROVAL_SOURCE_HANDLER = 'tooltrail.approval-handler';
/** `tooltrail.approval.by` when tooltrail itself rejected (deadline passed, handler threw or answered garbage). */
export const APPROVER_TOOLTRAIL = 'tooltrail';
/** The deciding rule of a call a framework refused before any body ran (recordRefused, kind denied). */
export const RULE_FRAMEWORK = 'tooltrail.framework';
/** On a call recorded by recordRefused: who refused it (a framework component or a person). */
export const ATTR_REFUSED_BY = 'tooltrail.refused.by';
/** On a call recorded by recordRefused: why it never ran (masked as text). */
export const ATTR_REFUSED_REASON = 'tooltrail.refused.reason';
/** Validation issue code of a call a framework found unusable when it gave no issues of its own. */
export const ISSUE_FRAMEWORK_INVALID = 'framework_invalid';
/** Every `tooltrail.mask.*` attribute starts so. */
export const ATTR_MASK_PREFIX = 'tooltrail.mask.';
/** Every `gen_ai.tool.*` attribute starts so. */
export const ATTR_GEN_AI_TOOL_PREFIX = 'gen_ai.tool.';
/** The span name of a run: `invoke_agent {agent}`, or `invoke_agent` for a run without an agent name. */
export const agentSpanName = (agent: string | undefined): string => (agent ? `${SPAN_NAME_INVOKE_AGENT} ${agent}` : SPAN_NAME_INVOKE_AGENT);

/** Correlation attributes adapters set (core never writes them): `@tooltrail/mcp`, JSON-RPC. */
export const ADAPTER_CORRELATION_ATTRIBUTES: readonly string[] = Object.freeze(['mcp.session.id', 'mcp.method.name', 'jsonrpc.request.id']);
/**
 * Correlation keys (docs/span-schema.md): the value detectors still scan them (a planted secret is
 * masked), but no key-name rule ever masks one, whatever its name says (`mcp.session.id`).
 */
export const CORRELATION_ATTRIBUTES: readonly string[] = Object.freeze([
  ATTR_RUN_ID,
  ATTR_RUN_PARENT_ID,
  ATTR_PRINCIPAL_TYPE,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_STREAM_ID,
  ...ADAPTER_CORRELATION_ATTRIBUTES,
]);
