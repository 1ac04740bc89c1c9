import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, Implementation, JSONRPCRequest, Notification, Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/schema.js';

/** What an upstream sends the gateway that is meant for the agent. */
export interface UpstreamEvents {
  request(from: Upstream, request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  notification(from: Upstream, notification: Notification): Promise<void>;
  closed(from: Upstream): void;
}

/** One configured server, connected for one agent connection: the SDK's Client over stdio or Streamable HTTP. */
export class Upstream {
  readonly client: Client;
  private closing = false;
  closedAt: number | undefined;

  constructor(
    readonly config: ServerConfig,
    clientInfo: Implementation,
    capabilities: ClientCapabilities,
    private readonly events: UpstreamEvents,
  ) {
    this.client = new Client(clientInfo, { capabilities });
    // The whole protocol in the server-to-client direction goes to the agent as it came.
    this.client.fallbackRequestHandler = (request, extra) => this.events.request(this, request, extra.signal);
    this.client.fallbackNotificationHandler = (notification) => this.events.notification(this, notification);
    this.client.onclose = () => {
      this.closedAt = Date.now();
      if (!this.closing) this.events.closed(this);
    };
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

  async connect(): Promise<void> {
    await this.client.connect(transportFor(this.config));
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.client.close().catch(() => undefined);
  }
}

function transportFor(server: ServerConfig): Transport {
  if (server.stdio) {
    return new StdioClientTransport({
      command: server.stdio.command,
      args: server.stdio.args ?? [],
      env: { ...getDefaultEnvironment(), ...server.stdio.env },
      ...(server.stdio.cwd !== undefined ? { cwd: server.stdio.cwd } : {}),
      stderr: 'inherit',
    });
  }
  const http = server.http!;
  return new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { ...http.headers } } });
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
