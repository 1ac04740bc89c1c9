import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AuditDeniedError, AuditValidationError } from '@tooltrail/core';

/** What `Client.callTool` resolves to. */
export type McpCallToolResult = Awaited<ReturnType<Client['callTool']>>;

/**
 * Thrown inside the audited call when the server answered with `isError: true`, so that core
 * records the call as outcome `error`; the adapter catches it and hands the server's result to
 * the caller unchanged. Core names `error.type` after the thrown value's class, and the MCP
 * conventions want `tool_error` there, hence the class's `name` below.
 */
export class ToolErrorResult extends Error {
  /** The `CallToolResult` the server sent, as it sent it. */
  readonly result: McpCallToolResult;
  readonly tool: string;

  constructor(tool: string, result: McpCallToolResult) {
    super(errorText(result) ?? `tool "${tool}" returned isError without a text`);
    this.name = TOOL_ERROR;
    this.tool = tool;
    this.result = result;
  }
}

/** `error.type` of a tool result with `isError: true` (OpenTelemetry MCP conventions). */
export const TOOL_ERROR = 'tool_error';
Object.defineProperty(ToolErrorResult, 'name', { value: TOOL_ERROR });

/** The `_meta` key of a refusal result: `{ outcome, tool, callId, rule?, reason?, issues? }`. */
export const REFUSAL_META_KEY = 'tooltrail/refusal';

/** The text contents of a result, joined: what the status message and exception event carry. */
function errorText(result: McpCallToolResult): string | undefined {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .filter((c): c is { type: 'text'; text: string } => typeof c === 'object' && c !== null && c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** A denial as a tool error result: the model reads why and the agent loop carries on. */
export function deniedResult(err: AuditDeniedError): McpCallToolResult {
  const by = err.rule !== undefined ? ` by policy rule ${err.rule}` : ' by policy';
  return {
    content: [{ type: 'text', text: `Tool call "${err.tool}" was denied${by} and was not executed: ${err.reason}` }],
    isError: true,
    _meta: { [REFUSAL_META_KEY]: { outcome: 'denied', tool: err.tool, callId: err.callId, rule: err.rule, reason: err.reason } },
  };
}

/** A validation failure as a tool error result, listing the issues so the model can fix its call. */
export function invalidResult(err: AuditValidationError): McpCallToolResult {
  const lines = err.issues.map((i) => `- ${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`);
  return {
    content: [{ type: 'text', text: `Tool call "${err.tool}" was not executed: its arguments are invalid.\n${lines.join('\n')}` }],
    isError: true,
    _meta: { [REFUSAL_META_KEY]: { outcome: 'invalid', tool: err.tool, callId: err.callId, issues: err.issues } },
  };
}
