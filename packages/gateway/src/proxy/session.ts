import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, SetLevelRequestSchema, type CallToolResult, type InitializeRequest, type JSONRPCMessage, type JSONRPCRequest, type Request, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEventInput } from '@tooltrail/core';
import { RECORD_MCP_REQUEST, RECORD_MCP_SERVER_REQUEST, requestEvent } from '../audit/mcp-requests.js';
import { RunScopes } from '../audit/run-scopes.js';
import {
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SERVER_NAME,
  ATTR_MCP_SESSION_ID,
  ATTR_NETWORK_TRANSPORT,
  type CallInput,
  type CallParams,
  type McpAttributes,
} from '../audit/tool-calls.js';
import { readCallMeta, type CallMeta } from '../audit/call-meta.js';
import { guardMeta, sentMeta } from '../audit/meta-guard.js';
import { gatewayDeniedResult } from '../audit/results.js';
import { CallsInFlight } from './calls-in-flight.js';
import type { GatewayContext } from './context.js';
import { deliverInOrder } from '../transport/deliver-in-order.js';
import { HeldTransport } from '../transport/held-transport.js';
import { context } from '@opentelemetry/api';
import { agentContext } from '../audit/trace-context.js';
import { pinChangeReason, pinChangeRecord, runIdentityFor, type ConnectionIdentity, type PinChange } from './parts.js';
import { PINS_REFUSED_BY, toolChangedEvent } from '../pins/index.js';
import { exposedName, invalidParams, mergeCapabilities, PassThroughResult, RelayedError, relayed, serverInfoFor } from './relay.js';
import { Router, type AgentExtra } from './router.js';
import { connectAll, type Upstream, type UpstreamEvents } from './upstream.js';

const CONNECTION_RUN = '\u0000connection';
/** `tooltrail.refused.by` of a call refused for its run token (runTokens.require, another principal). */
export const RUN_TOKEN_REFUSED_BY = 'tooltrail.gateway.run-token';

/**
 * One agent connection (the stdio agent, or one Streamable HTTP session): its own upstream
 * clients (so server-to-client requests and subscriptions reach the right agent), one
 * downstream Server, and the runs its calls are recorded under.
 */
const NOT_FORWARDED_CLOSED = 'the connection closed before the call was forwarded: it was not sent to the server';
const NOT_FORWARDED_CANCELLED = 'the agent cancelled the call before it was forwarded: it was not sent to the server';

export class Session {
  private server: Server | undefined;
  private router: Router | undefined;
  private readonly runs: RunScopes;
  private readonly held: HeldTransport;
  private readonly inFlight: CallsInFlight;
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
    this.inFlight = new CallsInFlight(() => this.held.peerClosed);
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
    for (const u of upstreams) deliverInOrder(u.client.transport);
    const router = new Router(this.ctx, upstreams);
    const capabilities = mergeCapabilities(upstreams.map((u) => u.capabilities));
    const instructions = upstreams.map((u) => u.client.getInstructions()).filter((s): s is string => typeof s === 'string' && s !== '');
    const server = new Server(serverInfoFor(this.ctx.config.serviceName ?? 'tooltrail-gateway', this.ctx.version, upstreams.map((u) => u.serverInfo)), {
      capabilities,
      ...(instructions.length > 0 ? { instructions: instructions.join('\n\n') } : {}),
    });
    server.fallbackRequestHandler = (request, extra) =>
      request.method === 'tools/call'
        ? this.inFlight.track(this.callTool(request, extra))
        : request.method === 'tools/list'
          ? this.observed(() => router.request(request, extra))
          : router.request(request, extra, (up, out) => this.recordAgentRequest(request, up, out, extra));
    server.fallbackNotificationHandler = (notification) => router.notify(notification);
    // The SDK answers logging/setLevel itself when logging is declared: the servers must hear it.
    if (capabilities.logging !== undefined) {
      server.setRequestHandler(SetLevelRequestSchema, (request, extra) => {
        const rpc: JSONRPCRequest = { jsonrpc: '2.0', id: extra.requestId, ...request };
        return router.request(rpc, extra, (up, out) => this.recordAgentRequest(rpc, up, out, extra));
      });
    }
    this.router = router;
    this.server = server;
    await server.connect(this.held);
    // Before any message reaches the SDK: a `_meta` it would drop unanswered is set aside instead.
    guardMeta(this.held);
    this.held.release();
  }

  private readonly events: UpstreamEvents = {
    request: async (from, request, signal): Promise<Result> => {
      if (this.server === undefined) throw relayed(new Error('no agent is connected yet'));
      await this.recordServerRequest(from, request);
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
    warn: (message) => this.ctx.warn(message),
  };

  /** The run of the connection itself (its principal and agent), under which what it saw is recorded. */
  private get connectionRun(): { principal: ConnectionIdentity['principal']; agent?: ConnectionIdentity['agent']; runId: string } {
    return { principal: this.identity.principal, ...(this.identity.agent ? { agent: this.identity.agent } : {}), runId: this.connectionRunId };
  }

  /**
   * Runs `fn` (a tools/list, a call's definition lookup) so that a definition it finds changed
   * under its pin is recorded by this connection, under its run, before `fn`'s answer goes out.
   */
  private async observed<T>(fn: () => Promise<T>): Promise<T> {
    const records: Promise<void>[] = [];
    const result = await this.ctx.pins.observe((change) => records.push(this.recordChange(change)), fn);
    await Promise.all(records);
    return result;
  }

  /** One `tool_changed` record; a record that cannot be kept is warned about (never silently lost). */
  private async recordChange(change: PinChange): Promise<void> {
    const exposed = exposedName(change.server, change.tool, this.router?.prefixed ?? this.ctx.config.servers.length > 1);
    const extra: Record<string, string> = { [ATTR_NETWORK_TRANSPORT]: this.identity.transport === 'http' ? 'tcp' : 'pipe' };
    if (this.identity.sessionId !== undefined) extra[ATTR_MCP_SESSION_ID] = this.identity.sessionId;
    const event = toolChangedEvent(change, exposed, this.ctx.pins.onChange, extra);
    try {
      const kept = await this.runs.within(CONNECTION_RUN, this.connectionRun, async () => this.ctx.audit.auditor.recordEvent(event));
      if (!kept) this.ctx.warn(`tooltrail gateway: the record of the change of tool "${change.tool}" of server "${change.server}" could not be kept (see the audit warnings)`);
    } catch (err) {
      this.ctx.warn(`tooltrail gateway: the change of tool "${change.tool}" of server "${change.server}" was not recorded: ${(err as Error).message}`);
    }
  }

  /**
   * One agent request other than tools/call, routed to `up` and about to be sent as `out`: its
   * `mcp_request` record, under the connection's run; a record not kept (failMode closed) or not
   * written refuses it (thrown: the agent gets the JSON-RPC error, the server nothing).
   */
  private async recordAgentRequest(request: JSONRPCRequest, up: Upstream, out: Request, extra: AgentExtra): Promise<void> {
    const attrs = this.attributes(request.method, up, up.name, extra);
    const event = requestEvent(RECORD_MCP_REQUEST, attrs, request.method, (request.params ?? {}) as Record<string, unknown>, out.params);
    await this.recordOrRefuse(event, `${request.method} (request ${String(extra.requestId)}) to server "${up.name}"`);
  }

  /** One request of a server for the agent (sampling, elicitation, roots): its `mcp_server_request` record, before it is relayed. */
  private async recordServerRequest(from: Upstream, request: JSONRPCRequest): Promise<void> {
    const attrs = this.attributes(request.method, from, from.name, { requestId: request.id });
    const event = requestEvent(RECORD_MCP_SERVER_REQUEST, attrs, request.method, {}, request.params);
    await this.recordOrRefuse(event, `${request.method} (request ${String(request.id)}) of server "${from.name}" to the agent`);
  }

  private async recordOrRefuse(event: AuditEventInput, what: string): Promise<void> {
    const verdict = await this.ctx.requests.record((e) => this.runs.within(CONNECTION_RUN, this.connectionRun, async () => this.ctx.audit.auditor.recordEvent(e)), event, what);
    if (!verdict.forward) throw new RelayedError(ErrorCode.InternalError, `tooltrail gateway: ${verdict.reason}`);
  }

  private attributes(method: string, up: Upstream | undefined, server: string, extra: Pick<AgentExtra, 'requestId'> & { sessionId?: string | undefined }): McpAttributes {
    const attrs: McpAttributes = {
      [ATTR_MCP_METHOD_NAME]: method,
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
    const attrs = this.attributes('tools/call', target?.up, target?.up.name ?? '', extra);
    const { config, audit, runKeys } = this.ctx;
    // The agent's `_meta` is its word: read for the run token, call id and trace, never identity on its own.
    const meta = readCallMeta(sentMeta(params));
    const who = runIdentityFor(this.identity, meta.object, runKeys, config.runTokens?.require === true);
    const connectionRun = this.connectionRun;
    // Inside the run, the agent's span (params._meta.traceparent) is the call's parent: one trace on both sides.
    // The trace is a claim too: the run a call belongs to is the one it is recorded under (tooltrail.run.id).
    // Without a traceparent the context would be the active one: no context.with to pay for.
    const underAgent = <T>(fn: () => T): T => (meta.object?.traceparent === undefined ? fn() : context.with(agentContext(meta.object), fn));
    if (!who.ok) {
      const input = this.callInput(exposed, params, meta, connectionRun, attrs);
      const callId = await this.runs.within(CONNECTION_RUN, connectionRun, async () => underAgent(() => audit.refuse(input, who.reason, RUN_TOKEN_REFUSED_BY)));
      return gatewayDeniedResult(exposed, callId, RUN_TOKEN_REFUSED_BY, who.reason);
    }
    const claimed = who.run.runId !== undefined && who.claim === 'verified';
    const run = claimed ? who.run : { ...connectionRun, ...(who.run.attributes ? { attributes: who.run.attributes } : {}) };
    const key = claimed ? `run:${who.run.runId}` : CONNECTION_RUN;
    // One run id is one identity: a second verified token that names the same run for another
    // principal or agent would otherwise be recorded under the first one's (its scope is keyed by run id).
    const conflict = claimed ? this.runs.conflict(key, run) : undefined;
    if (conflict !== undefined) {
      const input = this.callInput(exposed, params, meta, connectionRun, { ...attrs, ...who.attributes });
      const callId = await this.runs.within(CONNECTION_RUN, connectionRun, async () => underAgent(() => audit.refuse(input, conflict, RUN_TOKEN_REFUSED_BY)));
      return gatewayDeniedResult(exposed, callId, RUN_TOKEN_REFUSED_BY, conflict);
    }
    const input = this.callInput(exposed, params, meta, run, { ...attrs, ...who.attributes });
    const { callId: decidedId, attributes: callAttrs } = input;
    // Before the call is decided: a tool whose definition changed since it was pinned is not called.
    // A definition that cannot be had (the list refused, the server down) or a tool the server
    // does not list cannot be checked against a pin: the call is refused, not sent unchecked.
    let unchecked: string | undefined;
    // The agent went away (or cancelled) while the definition was read: that read's failure is
    // not the pin's; the call is recorded as not forwarded, as when it goes away before the send.
    let gone: string | undefined;
    const changed = target === undefined ? undefined : await this.observed(async () => {
      let def: Awaited<ReturnType<Router['definition']>>;
      try {
        def = await router.definition(exposed, extra);
      } catch (err) {
        if (this.held.peerClosed || this.closing !== undefined) gone = NOT_FORWARDED_CLOSED;
        else if (extra.signal.aborted) gone = NOT_FORWARDED_CANCELLED;
        // In parentheses, not after a colon: "its pin: <message>" reads as a PIN to the masker.
        else unchecked = `the definition of tool ${exposed} could not be read from server ${target.up.name} to check it against its pin (${(err as Error).message})`;
        return undefined;
      }
      if (def === undefined) {
        unchecked = `server ${target.up.name} does not list a tool ${target.name}: a tool without a listed definition cannot be pinned, so it is not called`;
        return undefined;
      }
      return this.ctx.pins.check(target.up.name, def) === 'changed' ? this.ctx.pins.changeOf(target.up.name, def.name) : undefined;
    });
    return this.runs.within(key, run, async () =>
      underAgent(() => {
        if (unchecked !== undefined) {
          const callId = audit.refuse(input, unchecked, PINS_REFUSED_BY);
          return gatewayDeniedResult(exposed, callId, PINS_REFUSED_BY, unchecked);
        }
        if (changed !== undefined) {
          const refused = pinChangeRecord(audit.recorder(exposed), changed, { callId: decidedId, args: params.arguments, attributes: callAttrs });
          return gatewayDeniedResult(exposed, refused.callId, PINS_REFUSED_BY, pinChangeReason(changed));
        }
        return audit.call(input, async (forwarded) => {
          if (target === undefined) throw invalidParams(`Unknown tool: ${exposed}`);
          // The agent went away or the connection is closing: a call not yet sent is not sent now
          // (nobody would read its answer, and the close does not wait for new calls).
          if (gone !== undefined) throw new RelayedError(ErrorCode.InternalError, gone);
          if (this.held.peerClosed || this.closing !== undefined) throw new RelayedError(ErrorCode.InternalError, NOT_FORWARDED_CLOSED);
          const upstream = this.inFlight.forward(extra.signal);
          try {
            return await router.forwardTool(target.up, target.name, forwarded, extra, upstream.signal);
          } finally {
            upstream.done();
          }
        });
      }),
    );
  }

  /**
   * The call as it is recorded: under the agent's call id when it is well formed and no other run
   * used it in this process, else a fresh one with the claim as evidence (call-ids.ts); with
   * what `_meta` held that was not passed on.
   */
  private callInput(tool: string, params: CallParams, meta: CallMeta, run: { principal: { id: string }; runId?: string }, attrs: McpAttributes): CallInput {
    const ids = this.ctx.audit.callIds.decide(meta.object, `${run.principal.id}\u0000${run.runId ?? ''}`);
    return { tool, params, callId: ids.callId, passOn: meta.passOn, attributes: { ...attrs, ...meta.attributes, ...ids.attributes } };
  }

  /** How long a closing connection waits for its calls in flight: the longest request timeout of its servers. */
  private get closeGraceMs(): number {
    return Math.max(...this.ctx.config.servers.map((s) => s.requestTimeoutMs ?? 60_000));
  }

  /** Ends the runs (their records are written), closes the upstreams and the agent side. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Calls already forwarded end first and are recorded as they ended; then the runs end and
      // the servers are closed. A call still running after the grace (a server whose progress
      // keeps resetting its timeout, a call waiting for an approval) does not hold the close:
      // its upstream request is aborted (recorded as such), and what still runs then is recorded
      // by core as unfinished at shutdown.
      const late = await this.inFlight.drain(this.closeGraceMs);
      if (late > 0) this.ctx.warn(`tooltrail gateway: ${late} call(s) still running ${this.closeGraceMs} ms after the connection closed: their upstream requests are aborted`);
      await this.runs.close();
      await Promise.all((this.router?.upstreams ?? []).map((u) => u.close()));
      await this.server?.close().catch(() => undefined);
      await this.held.close().catch(() => undefined);
      this.onclose?.();
    })();
    return this.closing;
  }
}
