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
/** `intent` on the strict-mode record written before a tool body runs. */
export const ATTR_RECORD = 'tooltrail.record';

export const ERROR_TYPE_DENIED = 'tooltrail.denied';
export const ERROR_TYPE_INVALID = 'tooltrail.invalid_arguments';
/** OpenTelemetry's fallback for an error whose type cannot be named (a thrown string, say). */
export const ERROR_TYPE_OTHER = '_OTHER';

export const RULE_REQUIRE_IDENTITY = 'tooltrail.require-identity';
export const RULE_POLICY_ERROR_PREFIX = 'tooltrail.policy-error:';

export const SPAN_NAME_EXECUTE_TOOL = 'execute_tool';
export const SPAN_NAME_ATTEMPT = 'tool_attempt';
export const SPAN_NAME_INTENT = 'tool_intent';
export const SPAN_NAME_INVOKE_AGENT = 'invoke_agent';

export const TRACER_NAME = '@tooltrail/core';

export type Outcome = 'ok' | 'error' | 'denied' | 'invalid';
export type DecisionKind = 'allow' | 'deny' | 'rewrite';
