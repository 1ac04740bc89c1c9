import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isDenial, isRefusal, type AuditDeniedError } from '@tooltrail/core';

/** The `_meta` key of a refusal result, as @tooltrail/mcp writes it. */
export const REFUSAL_META_KEY = 'tooltrail/refusal';

/** `error.type` of a tool result with `isError: true` (OpenTelemetry MCP conventions). */
export const TOOL_ERROR = 'tool_error';

/**
 * Thrown inside the audited forwarder when the server answered `isError: true`: core records
 * outcome `error` with `error.type` `tool_error` (the class's name), and the gateway hands the
 * result to the agent unchanged.
 */
export class ToolErrorResult extends Error {
  constructor(
    readonly tool: string,
    readonly result: CallToolResult,
  ) {
    super(errorText(result) ?? `tool "${tool}" returned isError without a text`);
    this.name = TOOL_ERROR;
  }
}
Object.defineProperty(ToolErrorResult, 'name', { value: TOOL_ERROR });

function errorText(result: CallToolResult): string | undefined {
  const content: unknown = result.content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .filter((c): c is { type: 'text'; text: string } => typeof c === 'object' && c !== null && c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** A refusal as the MCP way of a failed tool: a result with `isError: true` saying why. */
export function refusalResult(tool: string, err: unknown): CallToolResult | undefined {
  if (!isRefusal(err)) return undefined;
  if (isDenial(err)) {
    const d = err as AuditDeniedError;
    const by = d.rule !== undefined ? ` by policy rule ${d.rule}` : ' by policy';
    return {
      content: [{ type: 'text', text: `Tool call "${tool}" was denied${by} at the gateway and was not executed: ${d.reason}` }],
      isError: true,
      _meta: { [REFUSAL_META_KEY]: { outcome: 'denied', tool, callId: d.callId, rule: d.rule, reason: d.reason } },
    };
  }
  const e = err as Error & { callId?: string; issues?: unknown };
  return {
    content: [{ type: 'text', text: `Tool call "${tool}" was not executed: ${e.message}` }],
    isError: true,
    _meta: { [REFUSAL_META_KEY]: { outcome: 'invalid', tool, callId: e.callId, issues: e.issues } },
  };
}

/** A call the gateway refused before policy (run identity, a changed pin), recorded with recordRefused. */
export function gatewayDeniedResult(tool: string, callId: string, rule: string, reason: string): CallToolResult {
  return {
    content: [{ type: 'text', text: `Tool call "${tool}" was denied by ${rule} at the gateway and was not executed: ${reason}` }],
    isError: true,
    _meta: { [REFUSAL_META_KEY]: { outcome: 'denied', tool, callId, rule, reason } },
  };
}
