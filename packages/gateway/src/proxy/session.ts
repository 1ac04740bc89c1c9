import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, SetLevelRequestSchema, type CallToolResult, type InitializeRequest, type JSONRPCMessage, type JSONRPCRequest, type Result } from '@modelcontextprotocol/sdk/types.js';
import { RunScopes } from '../audit/run-scopes.js';
import {
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SERVER_NAME,
  ATTR_MCP_SESSION_ID,
  ATTR_NETWORK_TRANSPORT,
  callIdOf,
  type CallParams,
  type McpAttributes,
} from '../audit/tool-calls.js';
import { gatewayDeniedResult } from '../audit/results.js';
import type { GatewayContext } from './context.js';
import { HeldTransport } from './held-transport.js';
import { context } from '@opentelemetry/api';
import { agentContext } from '../audit/trace-context.js';
import { pinChangeReason, pinChangeRecord, runIdentityFor, type ConnectionIdentity } from './parts.js';
import { invalidParams, mergeCapabilities, PassThroughResult, relayed, serverInfoFor } from './relay.js';
import { Router, type AgentExtra } from './router.js';
import { connectAll, type Upstream, type UpstreamEvents } from './upstream.js';

const CONNECTION_RUN = '\u0000connection';

/**
 * One agent connection (the stdio agent, or one Streamable HTTP session): its own upstream
 * clients (so server-to-client requests and subscriptions reach the right agent), one
 * downstream Server, and the runs its calls are recorded under.
 */
export class Session {
  private server: Server | undefined;
  private router: Router | undefined;
  private readonly runs: RunScopes;
  private readonly held: HeldTransport;
  private closing: Promise<void> | undefined;
  private readonly connectionRunId = randomUUID();
  onclose: (() => void) | undefined;

  constructor(
    private readonly ctx: GatewayContext,
    readonly identity: ConnectionIdentity,
    transport: Transport,
  ) {
    this.runs = new RunScopes(ctx.audit.auditor);
    this.held = new HeldTransport(transport, (message) => void this.begin(message));
    this.held.onclose = () => void this.close();
  }

  /** Starts the agent-side transport; the upstreams connect when the agent's `initialize` arrives. */
  async start(): Promise<void> {
    await this.held.inner.start();
  }

  private async begin(message: JSONRPCMessage): Promise<void> {
    const init = message as JSONRPCRequest & { params: InitializeRequest['params'] };
    let upstreams: Upstream[];
    try {
      upstreams = await connectAll(this.ctx.config.servers, init.params.clientInfo, init.params.capabilities ?? {}, this.events);
    } catch (err) {
      this.ctx.warn(`tooltrail gateway: ${(err as Error).message}`);
      await this.held.inner.send({ jsonrpc: '2.0', id: init.id, error: { code: ErrorCode.InternalError, message: `tooltrail gateway: ${(err as Error).message}` } }).catch(() => undefined);
      await this.close();
      return;
    }
    if (this.closing !== undefined) {
      await Promise.all(upstreams.map((u) => u.close()));
      return;
    }
    const router = new Router(this.ctx, upstreams);
    const capabilities = mergeCapabilities(upstreams.map((u) => u.capabilities));
    const instructions = upstreams.map((u) => u.client.getInstructions()).filter((s): s is string => typeof s === 'string' && s !== '');
    const server = new Server(serverInfoFor(this.ctx.config.serviceName ?? 'tooltrail-gateway', this.ctx.version, upstreams.map((u) => u.serverInfo)), {
      capabilities,
      ...(instructions.length > 0 ? { instructions: instructions.join('\n\n') } : {}),
    });
    server.fallbackRequestHandler = (request, extra) => (request.method === 'tools/call' ? this.callTool(request, extra) : router.request(request, extra));
    server.fallbackNotificationHandler = (notification) => router.notify(notification);
    // The SDK answers logging/setLevel itself when logging is declared: the servers must hear it.
    if (capabilities.logging !== undefined) server.setRequestHandler(SetLevelRequestSchema, (request, extra) => router.request({ jsonrpc: '2.0', id: extra.requestId, ...request }, extra));
    this.router = router;
    this.server = server;
    await server.connect(this.held);
    this.held.release();
  }

  private readonly events: UpstreamEvents = {
    request: async (_from, request, signal): Promise<Result> => {
      if (this.server === undefined) throw relayed(new Error('no agent is connected yet'));
      try {
        return await this.server.request({ method: request.method, params: request.params } as never, PassThroughResult, { signal });
      } catch (err) {
        throw relayed(err);
      }
    },
    notification: async (_from, notification) => {
      await this.server?.notification(notification as never).catch(() => undefined);
    },
    closed: (from) => this.ctx.warn(`tooltrail gateway: upstream server "${from.name}" closed its connection`),
  };

  private attributes(up: Upstream | undefined, server: string, extra: AgentExtra): McpAttributes {
    const attrs: McpAttributes = {
      [ATTR_MCP_METHOD_NAME]: 'tools/call',
      [ATTR_JSONRPC_REQUEST_ID]: String(extra.requestId),
      [ATTR_NETWORK_TRANSPORT]: this.identity.transport === 'http' ? 'tcp' : 'pipe',
      [ATTR_MCP_SERVER_NAME]: server,
    };
    const sessionId = extra.sessionId ?? this.identity.sessionId;
    if (sessionId !== undefined) attrs[ATTR_MCP_SESSION_ID] = sessionId;
    const version = (up?.client.transport as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (typeof version === 'string') attrs[ATTR_MCP_PROTOCOL_VERSION] = version;
    return attrs;
  }

  /** One `tools/call`: recorded under the run it belongs to, whatever happens to it. */
  private async callTool(request: JSONRPCRequest, extra: AgentExtra): Promise<CallToolResult> {
    const router = this.router!;
    const params = (request.params ?? {}) as CallParams;
    const exposed = typeof params.name === 'string' ? params.name : '';
    if (exposed === '') throw invalidParams('tools/call needs params.name, the tool to call');
    const target = router.target(exposed);
    const attrs = this.attributes(target?.up, target?.up.name ?? '', extra);
    const { config, audit, runKeys } = this.ctx;
    const meta = params._meta as Record<string, unknown> | undefined;
    const who = runIdentityFor(this.identity, meta, runKeys, config.runTokens?.require === true);
    const connectionRun = { principal: this.identity.principal, ...(this.identity.agent ? { agent: this.identity.agent } : {}), runId: this.connectionRunId };
    // Inside the run, the agent's span (params._meta.traceparent) is the call's parent: one trace on both sides.
    // Without a traceparent the context would be the active one: no context.with to pay for.
    const underAgent = <T>(fn: () => T): T => (meta?.traceparent === undefined ? fn() : context.with(agentContext(meta), fn));
    if (!who.ok) {
      const callId = await this.runs.within(CONNECTION_RUN, connectionRun, async () => underAgent(() => audit.refuse(exposed, params, attrs, who.reason, 'tooltrail-gateway.run-token')));
      return gatewayDeniedResult(exposed, callId, 'tooltrail.gateway.run-token', who.reason);
    }
    const claimed = who.run.runId !== undefined && who.claim === 'verified';
    const run = claimed ? who.run : { ...connectionRun, ...(who.run.attributes ? { attributes: who.run.attributes } : {}) };
    const key = claimed ? `run:${who.run.runId}` : CONNECTION_RUN;
    const callAttrs = { ...attrs, ...who.attributes };
    // Before the call is decided: a tool whose definition changed since it was pinned is not called.
    // The definition of the last tools/list is at hand (no await); else the server is asked.
    const def = target === undefined ? undefined : (router.tools.get(exposed) ?? (await router.definition(exposed, extra).catch(() => undefined)));
    const changed = target !== undefined && def !== undefined && this.ctx.pins.check(target.up.name, def) === 'changed' ? this.ctx.pins.changeOf(target.up.name, def.name) : undefined;
    return this.runs.within(key, run, async () =>
      underAgent(() => {
        if (changed !== undefined) {
          const refused = pinChangeRecord(audit.recorder(exposed), changed, { callId: callIdOf(params), args: params.arguments, attributes: callAttrs });
          return gatewayDeniedResult(exposed, refused.callId, 'tooltrail.gateway.pin', pinChangeReason(changed));
        }
        return audit.call(exposed, params, callAttrs, (forwarded) => {
          if (target === undefined) throw invalidParams(`Unknown tool: ${exposed}`);
          return router.forwardTool(target.up, target.name, forwarded, extra);
        });
      }),
    );
  }

  /** Ends the runs (their records are written), closes the upstreams and the agent side. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.runs.close();
      await Promise.all((this.router?.upstreams ?? []).map((u) => u.close()));
      await this.server?.close().catch(() => undefined);
      await this.held.close().catch(() => undefined);
      this.onclose?.();
    })();
    return this.closing;
  }
}
