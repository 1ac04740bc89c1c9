import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, Implementation, JSONRPCMessage, JSONRPCRequest, Notification, Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/schema.js';
import { checkedFetch } from '../transport/checked-fetch.js';
import { worthWarning } from '../shared/worth-warning.js';
import { Inflow, MAX_IN_FLIGHT } from '../transport/flow.js';
import { invalidResponse } from '../transport/jsonrpc-checks.js';
import type { LineProblem } from '../transport/line-reader.js';
import { ChildStdioTransport } from '../transport/stdio-child.js';

/** What an upstream sends the gateway that is meant for the agent. */
export interface UpstreamEvents {
  request(from: Upstream, request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  notification(from: Upstream, notification: Notification): Promise<void>;
  closed(from: Upstream): void;
  /** Where the gateway's warnings about this server go (default stderr). */
  warn?(message: string): void;
}

/** One configured server, connected for one agent connection: the SDK's Client over stdio or Streamable HTTP. */
export class Upstream {
  readonly client: Client;
  private closing = false;
  closedAt: number | undefined;
  private transport: Transport | undefined;
  /** What this server sent toward the agent and the agent has not taken yet: past a bound, the server is not read. */
  readonly inflow = new Inflow(
    MAX_IN_FLIGHT,
    () => (this.transport instanceof ChildStdioTransport ? this.transport.pauseReading() : undefined),
    () => (this.transport instanceof ChildStdioTransport ? this.transport.resumeReading() : undefined),
  );

  constructor(
    readonly config: ServerConfig,
    clientInfo: Implementation,
    capabilities: ClientCapabilities,
    private readonly events: UpstreamEvents,
  ) {
    this.client = new Client(clientInfo, { capabilities });
    // The whole protocol in the server-to-client direction goes to the agent as it came.
    this.client.fallbackRequestHandler = (request, extra) => this.events.request(this, request, extra.signal);
    this.client.fallbackNotificationHandler = (notification) => this.toAgent(this.events.notification(this, notification));
    this.client.onclose = () => {
      this.closedAt = Date.now();
      if (!this.closing) this.events.closed(this);
    };
  }

  /** A delivery toward the agent (a notification, a progress): while too many are pending, this server is not read. */
  toAgent<T>(delivery: Promise<T>): Promise<T> {
    return this.inflow.track(delivery);
  }

  get name(): string {
    return this.config.name;
  }

  get capabilities(): ServerCapabilities {
    return this.client.getServerCapabilities() ?? {};
  }

  get serverInfo(): Implementation | undefined {
    return this.client.getServerVersion();
  }

  get alive(): boolean {
    return this.closedAt === undefined;
  }

  /** Messages of this server that were not JSON-RPC and answered nothing: ignored, and counted. */
  ignored = 0;

  async connect(): Promise<void> {
    this.transport = transportFor(this.config, (p) => this.problem(p), this.inflow);
    await this.client.connect(this.transport);
  }

  /**
   * A broken message of the server: one that answers a request becomes an error answer to it
   * (the call fails now, not at its timeout); anything else is ignored, with a warning at the
   * 1st, 10th, 100th... so a server that floods garbage cannot flood the log.
   */
  private problem(p: LineProblem): JSONRPCMessage | undefined {
    if (p.response && p.id !== undefined) return invalidResponse(this.name, p.id, p.problem) as JSONRPCMessage;
    this.ignored++;
    if (worthWarning(this.ignored)) {
      const warn = this.events.warn ?? ((m: string) => void process.stderr.write(`${m}\n`));
      warn(`tooltrail gateway: server "${this.name}" sent a message that is not JSON-RPC (${p.problem}); ignored (${this.ignored} so far)`);
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.client.close().catch(() => undefined);
  }
}

function transportFor(server: ServerConfig, onProblem: (p: LineProblem) => JSONRPCMessage | undefined, inflow: Inflow): Transport {
  if (server.stdio) {
    // A line over the limit is skipped like any other bad line: its request is then answered at its timeout.
    return new ChildStdioTransport({
      command: server.stdio.command,
      args: server.stdio.args ?? [],
      env: { ...getDefaultEnvironment(), ...server.stdio.env },
      ...(server.stdio.cwd !== undefined ? { cwd: server.stdio.cwd } : {}),
      onProblem,
    });
  }
  const http = server.http!;
  return new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { ...http.headers } }, fetch: checkedFetch(server.name, onProblem, inflow) });
}

/** Connects every configured server; on any failure the ones connected are closed again. */
export async function connectAll(servers: readonly ServerConfig[], clientInfo: Implementation, capabilities: ClientCapabilities, events: UpstreamEvents): Promise<Upstream[]> {
  const ups = servers.map((s) => new Upstream(s, clientInfo, capabilities, events));
  const settled = await Promise.allSettled(ups.map((u) => u.connect()));
  const failed = settled.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    await Promise.all(ups.map((u) => u.close()));
    const reason = (settled[failed] as PromiseRejectedResult).reason as Error;
    throw new Error(`upstream server "${servers[failed]!.name}" did not connect: ${reason?.message ?? String(reason)}`);
  }
  return ups;
}
