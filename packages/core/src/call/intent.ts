import type { Attributes } from '@opentelemetry/api';
import * as sc from '../contract/semconv.js';

/** What a `tool_intent` record copies from the call span: who, which tool, what runs, the decision. */
const INTENT_KEYS = [
  sc.ATTR_RUN_ID,
  sc.ATTR_RUN_PARENT_ID,
  sc.ATTR_USER_ID,
  sc.ATTR_PRINCIPAL_TYPE,
  sc.ATTR_GEN_AI_AGENT_NAME,
  sc.ATTR_GEN_AI_AGENT_ID,
  sc.ATTR_GEN_AI_CONVERSATION_ID,
  sc.ATTR_GEN_AI_OPERATION_NAME,
  sc.ATTR_GEN_AI_TOOL_NAME,
  sc.ATTR_GEN_AI_TOOL_CALL_ID,
  sc.ATTR_GEN_AI_TOOL_TYPE,
  sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  sc.ATTR_ARGUMENTS_PROPOSED,
  sc.ATTR_ARGUMENTS_MUTATED,
  sc.ATTR_DECISION,
  sc.ATTR_POLICY_RULE,
  sc.ATTR_POLICY_REASON,
  sc.ATTR_POLICY_ID,
  sc.ATTR_POLICY_VERSION,
  sc.ATTR_APPROVAL_DECISION,
  sc.ATTR_APPROVAL_BY,
  sc.ATTR_APPROVAL_RULE,
  sc.ATTR_APPROVAL_RESUMED,
] as const;

/**
 * The attributes of a zero-length `tool_intent` record: `intent` (strict mode, before the body
 * runs) or `unfinished` (the body was running at shutdown or exit, with the attempts so far).
 */
export function intentAttributes(call: Attributes, extra: Attributes | undefined, kind: string, attempts: number): Attributes {
  const intent: Attributes = {};
  if (extra !== undefined) Object.assign(intent, extra);
  for (const key of INTENT_KEYS) if (call[key] !== undefined) intent[key] = call[key];
  intent[sc.ATTR_RECORD] = kind;
  if (kind === sc.RECORD_UNFINISHED) intent[sc.ATTR_ATTEMPTS] = attempts;
  return intent;
}
