import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolRequest } from '@modelcontextprotocol/sdk/types.js';
import {
  AuditConfigError,
  AuditDeniedError,
  AuditValidationError,
  currentCall,
  type AuditedFunction,
  type Auditor,
  type CallMeta,
  type ToolOptions,
  unknownOptionKeys,
} from '@tooltrail/core';
import { deniedResult, invalidResult, ToolErrorResult, type McpCallToolResult } from './results.js';

/** The `params` of a `tools/call` request, as `Client.callTool` takes them. */
export type McpCallToolParams = CallToolRequest['params'];
type ResultSchema = Parameters<Client['callTool']>[1];
type McpRequestOptions = Parameters<Client['callTool']>[2];
type ToolArguments = McpCallToolParams['arguments'];

/** Attribute values the adapter adds to a call's record. */
export type McpSpanAttributes = Record<string, string | number | boolean>;

/** Options for one tool, by the name the server gives it. */
export type McpToolOptions = Pick<ToolOptions, 'description' | 'schema' | 'policy' | 'retry' | 'masking' | 'type'>;

export interface AuditMcpClientOptions extends Pick<ToolOptions, 'policy' | 'retry' | 'masking' | 'type'> {
  /** Per-tool options (a zod `schema`, extra `policy`, `retry`, `description`), by tool name. */
  tools?: Record<string, McpToolOptions>;
  /**
   * What a denied or invalid call gives the caller. `result` (default): an `isError: true`
   * CallToolResult explaining the refusal, so an agent loop carries on. `throw`: the
   * `AuditDeniedError` / `AuditValidationError`.
   */
  onDenied?: 'result' | 'throw';
  /**
   * The call id (`gen_ai.tool.call.id`) of a call, e.g. the model's tool call id. Default: the
   * string in `params._meta["tooltrail/callId"]`, else core generates one. Reusing an id counts
   * as a retry of that call.
   */
  callId?: (params: McpCallToolParams) => string | undefined;
  /** Extra attributes for every call's record, e.g. `network.transport` or `server.address`. */
  attributes?: McpSpanAttributes;
}

/** Every key of `T`: the compiler refuses a list that misses one or names another. */
const keysOf = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);
const CLIENT_OPTION_KEYS = keysOf<AuditMcpClientOptions>({
  policy: true,
  retry: true,
  masking: true,
  type: true,
  tools: true,
  onDenied: true,
  callId: true,
  attributes: true,
});
const TOOL_OPTION_KEYS = keysOf<McpToolOptions>({ description: true, schema: true, policy: true, retry: true, masking: true, type: true });

/**
 * Unknown keys in the options (in `retry`, `masking` and each tool's options too) are errors,
 * each naming the nearest valid name, when the client is wrapped: a typo would otherwise be
 * ignored, or found only at a tool's first call. The keys of `tools` are not checked: the
 * server's tool names are not known yet.
 */
function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new AuditConfigError('auditMcpClient() options must be an object');
  const issues = unknownOptionKeys(options, CLIENT_OPTION_KEYS);
  const perTool = (options as { tools?: unknown }).tools;
  if (perTool !== undefined) {
    if (typeof perTool !== 'object' || perTool === null || Array.isArray(perTool)) issues.push('tools must be an object of per-tool options, by tool name');
    else {
      for (const [name, own] of Object.entries(perTool)) {
        if (own === undefined) continue;
        if (typeof own !== 'object' || own === null) issues.push(`tools.${name} must be an object of options`);
        else issues.push(...unknownOptionKeys(own, TOOL_OPTION_KEYS, `tools.${name}.`));
      }
    }
  }
  if (issues.length > 0) throw new AuditConfigError('invalid auditMcpClient() options', issues);
}

/** The `params._meta` key a caller may put its tool call id under; it is not sent to the server. */
export const CALL_ID_META_KEY = 'tooltrail/callId';

export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
/** The server's `serverInfo` from `initialize`: the conventions have no attribute for it yet. */
export const ATTR_MCP_SERVER_NAME = 'tooltrail.mcp.server.name';
export const ATTR_MCP_SERVER_VERSION = 'tooltrail.mcp.server.version';

/** What the audited body needs of one `callTool`; passed as `this` so one wrapper serves every call. */
interface CallContext {
  readonly target: Client;
  readonly params: McpCallToolParams;
  readonly resultSchema: ResultSchema;
  readonly options: McpRequestOptions;
}

/**
 * The audited body: sends the `tools/call` request with the arguments that passed validation and
 * policy, and the attempt span's trace context in `params._meta` (each attempt is one request,
 * so the server's span hangs under the attempt that made it).
 */
async function callMcpTool(this: CallContext, args: ToolArguments): Promise<McpCallToolResult> {
  const { arguments: _proposed, _meta, ...rest } = this.params;
  const meta: Record<string, unknown> = { ..._meta };
  delete meta[CALL_ID_META_KEY];
  const call = currentCall();
  if (call !== undefined) meta.traceparent = call.traceparent;
  const request: McpCallToolParams = { ...rest, _meta: meta };
  if (args !== undefined) request.arguments = args;
  const result = await this.target.callTool(request, this.resultSchema, this.options);
  if (result.isError === true) throw new ToolErrorResult(this.params.name, result);
  return result;
}

type AuditedCall = AuditedFunction<typeof callMcpTool>;

const AUDITED = Symbol.for('tooltrail.mcp.audited-client');

/**
 * Returns `client` with every `callTool` audited: one `execute_tool {tool}` record per call,
 * whatever the outcome, with the MCP attributes, and the attempt's `traceparent` sent in
 * `params._meta`. The returned object is a proxy: everything else is the client itself, and
 * `client` stays unaudited. Wrap before `connect()` so the negotiated protocol version is known.
 */
export function auditMcpClient<C extends Client>(client: C, auditor: Auditor, options: AuditMcpClientOptions = {}): C {
  if (typeof client !== 'object' || client === null || typeof client.callTool !== 'function') {
    throw new AuditConfigError('auditMcpClient() needs an MCP SDK Client');
  }
  if (Reflect.get(client, AUDITED) === true) {
    throw new AuditConfigError('this MCP client is already audited: wrapping it again would record every call twice');
  }
  checkOptions(options);
  const { tools: perTool, onDenied = 'result', callId: readCallId, attributes: extra, ...common } = options;
  const wrappers = new Map<string, AuditedCall>();
  let negotiatedVersion: string | undefined;

  const auditedFor = (name: string): AuditedCall => {
    let audited = wrappers.get(name);
    if (audited === undefined) {
      const own = perTool !== undefined && Object.hasOwn(perTool, name) ? perTool[name] : undefined;
      audited = auditor.withAudit(callMcpTool, {
        ...common,
        ...own,
        name,
        // An MCP tool runs in another process the agent calls out to: an extension, not a local function.
        type: own?.type ?? common.type ?? 'extension',
        policy: [...(common.policy ?? []), ...(own?.policy ?? [])],
      });
      wrappers.set(name, audited);
    }
    return audited;
  };

  const mcpAttributes = (target: Client): McpSpanAttributes => {
    const attrs: McpSpanAttributes = { ...extra, [ATTR_MCP_METHOD_NAME]: 'tools/call' };
    // Streamable HTTP has a session id and knows the protocol version; stdio and in-memory have neither.
    const transport = target.transport as { sessionId?: unknown; protocolVersion?: unknown } | undefined;
    if (typeof transport?.sessionId === 'string' && transport.sessionId !== '') attrs[ATTR_MCP_SESSION_ID] = transport.sessionId;
    const version = typeof transport?.protocolVersion === 'string' ? transport.protocolVersion : negotiatedVersion;
    if (version !== undefined) attrs[ATTR_MCP_PROTOCOL_VERSION] = version;
    const server = target.getServerVersion();
    if (server?.name) attrs[ATTR_MCP_SERVER_NAME] = server.name;
    if (server?.version) attrs[ATTR_MCP_SERVER_VERSION] = server.version;
    return attrs;
  };

  const callTool = async (
    params: McpCallToolParams,
    resultSchema?: ResultSchema,
    requestOptions?: McpRequestOptions,
  ): Promise<McpCallToolResult> => {
    // Without a name core would record the call under the wrapper's own name; no server runs it anyway.
    if (typeof params?.name !== 'string' || params.name === '') throw new TypeError('callTool() needs params.name, the tool to call');
    const metaId = params._meta?.[CALL_ID_META_KEY];
    const callId = readCallId?.(params) ?? (typeof metaId === 'string' && metaId !== '' ? metaId : undefined);
    const context: CallContext = { target: client, params, resultSchema, options: requestOptions };
    // `attributes` is the core extension this adapter proposes (CallMeta.attributes): MCP facts on
    // the execute_tool span from its start, so denied calls carry them too. Core ignores it until then.
    const meta: CallMeta & { thisArg: CallContext; attributes: McpSpanAttributes } = {
      callId,
      thisArg: context,
      attributes: mcpAttributes(client),
    };
    try {
      return await auditedFor(params.name).invokeWith(meta, params.arguments);
    } catch (err) {
      // The server answered; the caller gets its answer, as it would without tooltrail.
      if (err instanceof ToolErrorResult) return err.result;
      if (onDenied === 'result') {
        if (err instanceof AuditDeniedError) return deniedResult(err);
        if (err instanceof AuditValidationError) return invalidResult(err);
      }
      throw err;
    }
  };

  // Observes the negotiated version in the `initialize` result of a connect() made through the proxy.
  const request: Client['request'] = function (this: unknown, ...args) {
    const pending = client.request.apply(this ?? client, args);
    if (args[0].method === 'initialize') {
      pending.then(
        (result) => {
          const version = (result as { protocolVersion?: unknown }).protocolVersion;
          if (typeof version === 'string') negotiatedVersion = version;
        },
        () => undefined, // the caller of connect() sees the failure
      );
    }
    return pending;
  };

  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'callTool') return callTool;
      if (prop === 'request') return request;
      if (prop === AUDITED) return true;
      return Reflect.get(target, prop, receiver);
    },
  });
}
