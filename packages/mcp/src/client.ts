import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { AuditConfigError, currentCall, currentRunToken, RUN_TOKEN_META_KEY, type AuditedFunction, type Auditor, type CallMeta } from '@tooltrail/core';
import { isDenial, isRefusal, refusalHandling, withAdapterAudit } from '@tooltrail/core/adapter';
import { clientOptions, type AuditMcpClientOptions, type McpCallToolParams, type McpSpanAttributes } from './options.js';
import { deniedResult, invalidResult, ToolErrorResult, type McpCallToolResult } from './results.js';

type ResultSchema = Parameters<Client['callTool']>[1];
type McpRequestOptions = Parameters<Client['callTool']>[2];
type ToolArguments = McpCallToolParams['arguments'];

/**
 * The `params._meta` key a caller may put its tool call id under. The request sent carries the
 * call id as recorded under the same key (a tooltrail gateway records the call under it too).
 */
export const CALL_ID_META_KEY = 'tooltrail/callId';
/**
 * The `params._meta` key the run token goes under (docs/gateway.md): sent with every call made in a
 * run whose auditor has a `runTokenKey`, so a tooltrail gateway can check who opened the run.
 */
export { RUN_TOKEN_META_KEY };

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
 * so the server's span hangs under the attempt that made it), and the run token when there is one.
 */
async function callMcpTool(this: CallContext, args: ToolArguments): Promise<McpCallToolResult> {
  const { arguments: _proposed, _meta, ...rest } = this.params;
  const meta: Record<string, unknown> = { ..._meta };
  delete meta[CALL_ID_META_KEY];
  const call = currentCall();
  if (call !== undefined) {
    meta.traceparent = call.traceparent;
    // The call id as recorded here, so a gateway on the path records the call under the same id.
    meta[CALL_ID_META_KEY] = call.callId;
  }
  // The run's own token, when its auditor can mint one; otherwise whatever the caller put there.
  const runToken = currentRunToken();
  if (runToken !== undefined) meta[RUN_TOKEN_META_KEY] = runToken;
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
export function auditMcpClient<C extends Client>(client: C, options?: AuditMcpClientOptions): C;
/** @deprecated Use `auditMcpClient(client, { auditor, ...options })`. */
export function auditMcpClient<C extends Client>(client: C, auditor: Auditor, options?: AuditMcpClientOptions): C;
export function auditMcpClient<C extends Client>(client: C, second?: Auditor | AuditMcpClientOptions, third?: AuditMcpClientOptions): C {
  if (typeof client !== 'object' || client === null || typeof client.callTool !== 'function') {
    throw new AuditConfigError('auditMcpClient() needs an MCP SDK Client');
  }
  if (Reflect.get(client, AUDITED) === true) {
    throw new AuditConfigError('this MCP client is already audited: wrapping it again would record every call twice');
  }
  const options = clientOptions(second, third);
  const refusals = refusalHandling(options, '@tooltrail/mcp', 'auditMcpClient()');
  const { tools: perTool, callId: readCallId, attributes: extra, auditor: _auditor, onRefusal: _onRefusal, formatRefusal: _format, ...common } = options;
  const wrappers = new Map<string, AuditedCall>();
  let negotiatedVersion: string | undefined;

  const auditedFor = (name: string): AuditedCall => {
    let audited = wrappers.get(name);
    if (audited === undefined) {
      const own = perTool !== undefined && Object.hasOwn(perTool, name) ? perTool[name] : undefined;
      audited = withAdapterAudit(options, callMcpTool, {
        ...common,
        ...own,
        name,
        // An MCP tool runs in another process the agent calls out to: an extension, not a local function.
        type: own?.type ?? common.type ?? 'extension',
        policy: [...(common.policy ?? []), ...(own?.policy ?? [])],
      }, 'auditMcpClient()');
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
      // By brand, not instanceof: the refusal may come from core's other build (ESM beside CJS).
      if (isRefusal(err) && refusals.modeFor(err) === 'result') {
        const result = isDenial(err) ? deniedResult(err) : invalidResult(err);
        return refusals.customFormat ? { ...result, content: [{ type: 'text', text: refusals.format(err) }] } : result;
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
