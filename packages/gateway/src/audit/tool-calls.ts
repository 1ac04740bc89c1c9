import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { currentCall, type AuditedFunction, type Auditor } from '@tooltrail/core';
import { refusalResult, ToolErrorResult } from './results.js';

/** `params._meta` keys tooltrail reads and does not send on to the server. */
export const CALL_ID_META_KEY = 'tooltrail/callId';
export const RUN_TOKEN_META_KEY = 'tooltrail/runToken';

export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
export const ATTR_NETWORK_TRANSPORT = 'network.transport';
export const ATTR_MCP_SERVER_NAME = 'tooltrail.mcp.server.name';

export type CallParams = CallToolRequest['params'];
type ToolArguments = CallParams['arguments'];

/** What the audited forwarder needs of one call; passed as `this` so one wrapper serves every call. */
interface ForwardContext {
  readonly tool: string;
  readonly params: CallParams;
  readonly send: (params: CallParams) => Promise<CallToolResult>;
}

/**
 * Sends the call on with the arguments that passed policy (a rewrite changes them) and the
 * call span's trace context in `params._meta`, so the server's span joins the gateway's.
 */
async function forwardToolCall(this: ForwardContext, args: ToolArguments): Promise<CallToolResult> {
  const { arguments: _proposed, _meta, ...rest } = this.params;
  const meta: Record<string, unknown> = { ..._meta };
  delete meta[CALL_ID_META_KEY];
  delete meta[RUN_TOKEN_META_KEY];
  const call = currentCall();
  if (call !== undefined) meta.traceparent = call.traceparent;
  const request: CallParams = { ...rest, _meta: meta };
  if (args !== undefined) request.arguments = args;
  const result = await this.send(request);
  if (result.isError === true) throw new ToolErrorResult(this.tool, result);
  return result;
}

export type McpAttributes = Record<string, string | number | boolean>;

/** The call id the agent sent (its own `_meta` key), else core generates one. */
export function callIdOf(params: CallParams): string | undefined {
  const id = params._meta?.[CALL_ID_META_KEY];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** One audited forwarder per tool name the agent sees, on the gateway's one auditor. */
export class ToolCallAudit {
  private readonly wrappers = new Map<string, AuditedFunction<typeof forwardToolCall>>();

  constructor(readonly auditor: Auditor) {}

  private wrapperFor(tool: string): AuditedFunction<typeof forwardToolCall> {
    let w = this.wrappers.get(tool);
    if (w === undefined) {
      // The tool runs in another process the gateway calls out to: an extension.
      w = this.auditor.withAudit(forwardToolCall, { name: tool, type: 'extension' });
      this.wrappers.set(tool, w);
    }
    return w;
  }

  /**
   * Records one `tools/call` and answers it: the server's result (also one with `isError`), a
   * refusal as an `isError` result, or the upstream's JSON-RPC error rethrown. Must run inside
   * the connection's run.
   */
  async call(tool: string, params: CallParams, attributes: McpAttributes, send: ForwardContext['send']): Promise<CallToolResult> {
    const context: ForwardContext = { tool, params, send };
    try {
      return await this.wrapperFor(tool).invokeWith(
        { callId: callIdOf(params), proposedArgs: params.arguments, attributes, thisArg: context },
        params.arguments,
      );
    } catch (err) {
      if (err instanceof ToolErrorResult) return err.result;
      const refused = refusalResult(tool, err);
      if (refused !== undefined) return refused;
      throw err;
    }
  }

  /** The audited forwarder of a tool, as a recorder of refusals (pinChangeRecord). */
  recorder(tool: string): Pick<AuditedFunction<typeof forwardToolCall>, 'recordRefused'> {
    return this.wrapperFor(tool);
  }

  /** Records a call the gateway refused itself (not by policy): no body ran. */
  refuse(tool: string, params: CallParams, attributes: McpAttributes, reason: string, by: string): string {
    const refused = this.wrapperFor(tool).recordRefused({ args: params.arguments, callId: callIdOf(params), reason, kind: 'denied', by, attributes });
    return refused.callId;
  }
}
