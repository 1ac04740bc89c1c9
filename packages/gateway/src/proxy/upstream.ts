import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, Implementation, JSONRPCMessage, JSONRPCRequest, Notification, Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/schema.js';
import { CheckedLineBuffer, checkLines, type LineProblem } from './held-transport.js';
import { invalidResponse, MAX_MESSAGE_BYTES, messageProblem } from './relay.js';

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

  /** Messages of this server that were not JSON-RPC and answered nothing: ignored, and counted. */
  ignored = 0;

  async connect(): Promise<void> {
    await this.client.connect(transportFor(this.config, (p) => this.problem(p)));
  }

  /**
   * A broken message of the server: one that answers a request becomes an error answer to it
   * (the call fails now, not at its timeout); anything else is ignored, with a warning at the
   * 1st, 10th, 100th... so a server that floods garbage cannot flood the log.
   */
  private problem(p: LineProblem): JSONRPCMessage | undefined {
    if (p.response && p.id !== undefined) return invalidResponse(this.name, p.id, p.problem) as JSONRPCMessage;
    this.ignored++;
    if (Number.isInteger(Math.log10(this.ignored))) {
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

function transportFor(server: ServerConfig, onProblem: (p: LineProblem) => JSONRPCMessage | undefined): Transport {
  if (server.stdio) {
    const transport = new StdioClientTransport({
      command: server.stdio.command,
      args: server.stdio.args ?? [],
      env: { ...getDefaultEnvironment(), ...server.stdio.env },
      ...(server.stdio.cwd !== undefined ? { cwd: server.stdio.cwd } : {}),
      stderr: 'inherit',
    });
    // A line over the limit is skipped like any other bad line: its request is then answered at its timeout.
    checkLines(transport, new CheckedLineBuffer(MAX_MESSAGE_BYTES, onProblem));
    return transport;
  }
  const http = server.http!;
  return new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { ...http.headers } }, fetch: checkedFetch(server.name, onProblem) });
}

/** The ids of the requests in a POST body the SDK sends (one message, or a batch). */
function requestIds(body: unknown): (string | number)[] {
  if (typeof body !== 'string') return [];
  const parsed = JSON.parse(body) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((m) => typeof m === 'object' && m !== null && 'method' in m && 'id' in m).map((m) => (m as { id: string | number }).id);
}

/**
 * fetch for the SDK's Streamable HTTP client that keeps a broken server from leaving a call
 * waiting until its timeout: in a JSON or SSE answer to a POST, a broken response to one of the
 * POST's requests is replaced with an error; an SSE stream that ends without answering them
 * (and gave no event id to resume from) gets an error answer for each.
 */
function checkedFetch(server: string, onProblem: (p: LineProblem) => JSONRPCMessage | undefined): FetchLike {
  const fix = (raw: unknown, pending: Set<string | number>): unknown => {
    const p = messageProblem(raw);
    const id = (raw as { id?: unknown } | null)?.id;
    if (p === undefined) {
      if (typeof id === 'string' || typeof id === 'number') pending.delete(id);
      return raw;
    }
    const replaced = onProblem({ ...p, code: -32600 });
    if (p.id !== undefined) pending.delete(p.id);
    return replaced;
  };
  return async (url, init) => {
    const res = await fetch(url, init);
    const ids = init?.method === 'POST' && res.ok && res.body !== null ? requestIds(init.body) : [];
    if (ids.length === 0) return res;
    const pending = new Set(ids);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json') {
      const text = await res.text();
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        return new Response(text, res);
      }
      const fixed = Array.isArray(data) ? data.map((m) => fix(m, pending)).filter((m) => m !== undefined) : fix(data, pending);
      return new Response(JSON.stringify(fixed ?? []), { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    if (type !== 'text/event-stream') return res;
    let buffered = '';
    let resumable = false;
    const event = (raw: string): string => {
      const lines = raw.split('\n');
      if (lines.some((l) => l.startsWith('id:'))) resumable = true;
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
      const kind = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
      if (data.length === 0 || (kind !== undefined && kind !== 'message')) return `${raw}\n\n`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        return `${raw}\n\n`;
      }
      const fixed = fix(parsed, pending);
      return fixed === parsed ? `${raw}\n\n` : fixed === undefined ? '' : `event: message\ndata: ${JSON.stringify(fixed)}\n\n`;
    };
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const checked = res.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          buffered = (buffered + decoder.decode(chunk, { stream: true })).replace(/\r\n/g, '\n');
          let end = buffered.indexOf('\n\n');
          for (; end !== -1; end = buffered.indexOf('\n\n')) {
            const text = event(buffered.slice(0, end));
            buffered = buffered.slice(end + 2);
            if (text !== '') out.enqueue(encoder.encode(text));
          }
        },
        flush(out) {
          if (buffered.trim() !== '') out.enqueue(encoder.encode(event(buffered)));
          if (resumable) return;
          for (const id of pending) {
            const error = { jsonrpc: '2.0', id, error: { code: -32603, message: `server "${server}" closed the response before answering` } };
            out.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(error)}\n\n`));
          }
        },
      }),
    );
    return new Response(checked, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
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
