import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { currentCall, type AuditedFunction, type Auditor } from '@tooltrail/core';
import { CallIds } from './call-ids.js';
import { refusalResult, ToolErrorResult } from './results.js';

/** `params._meta` keys tooltrail reads and does not send on to the server (nor any other `tooltrail/` key: call-meta.ts). */
export { CALL_ID_META_KEY } from './call-ids.js';
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
  /** The `_meta` the server receives (call-meta.ts: tooltrail's keys and the agent's traceparent out). */
  readonly passOn: Record<string, unknown>;
  readonly send: (params: CallParams) => Promise<CallToolResult>;
}

/**
 * Sends the call on with the arguments that passed policy (a rewrite changes them) and the
 * call span's trace context in `params._meta`, so the server's span joins the gateway's.
 */
async function forwardToolCall(this: ForwardContext, args: ToolArguments): Promise<CallToolResult> {
  const { arguments: _proposed, _meta, ...rest } = this.params;
  const meta: Record<string, unknown> = { ...this.passOn };
  const call = currentCall();
  if (call !== undefined) meta.traceparent = call.traceparent;
  const request: CallParams = { ...rest, _meta: meta };
  if (args !== undefined) request.arguments = args;
  const result = await this.send(request);
  if (result.isError === true) throw new ToolErrorResult(this.tool, result);
  return result;
}

export type McpAttributes = Record<string, string | number | boolean>;

/** One call as the session decided it: the id it is recorded under (call-ids.ts) and what its `_meta` passes on. */
export interface CallInput {
  readonly tool: string;
  readonly params: CallParams;
  readonly callId: string;
  readonly passOn: Record<string, unknown>;
  readonly attributes: McpAttributes;
}

/** One audited forwarder per tool name the agent sees, on the gateway's one auditor. */
export class ToolCallAudit {
  private readonly wrappers = new Map<string, AuditedFunction<typeof forwardToolCall>>();
  /** The call ids of this gateway process, for every connection (call-ids.ts). */
  readonly callIds = new CallIds();

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
  async call(input: CallInput, send: ForwardContext['send']): Promise<CallToolResult> {
    const { tool, params, callId, passOn, attributes } = input;
    const context: ForwardContext = { tool, params, passOn, send };
    try {
      return await this.wrapperFor(tool).invokeWith({ callId, proposedArgs: params.arguments, attributes, thisArg: context }, params.arguments);
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
  refuse(input: Omit<CallInput, 'passOn'>, reason: string, by: string): string {
    const { tool, params, callId, attributes } = input;
    return this.wrapperFor(tool).recordRefused({ args: params.arguments, callId, reason, kind: 'denied', by, attributes }).callId;
  }
}
