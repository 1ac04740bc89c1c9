import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, Implementation, JSONRPCMessage, JSONRPCRequest, Notification, Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/schema.js';
import { Inflow, MAX_IN_FLIGHT, worthWarning } from './flow.js';
import type { LineProblem } from './line-reader.js';
import { ChildStdioTransport } from './stdio-child.js';
import { invalidResponse, messageProblem } from './relay.js';
import { SseSplitter } from './sse-splitter.js';

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

/** An SSE body read only while the agent keeps up: not pulling it leaves the server's writes in TCP's window. */
function paced(body: ReadableStream<Uint8Array>, inflow: Inflow): ReadableStream<Uint8Array> {
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform: async (chunk, out) => {
    await inflow.ready();
    out.enqueue(chunk);
  } }, { highWaterMark: 1 }, { highWaterMark: 0 }));
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
function checkedFetch(server: string, onProblem: (p: LineProblem) => JSONRPCMessage | undefined, inflow: Inflow): FetchLike {
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
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const ids = init?.method === 'POST' && res.ok && res.body !== null ? requestIds(init.body) : [];
    if (ids.length === 0) {
      // The standalone GET stream: only paced.
      if (type !== 'text/event-stream' || !res.ok || res.body === null) return res;
      return new Response(paced(res.body, inflow), { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    const pending = new Set(ids);
    if (type === 'application/json') {
      const text = await res.text();
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        return new Response(text, res);
      }
      const fixed = Array.isArray(data) ? data.map((m) => fix(m, pending)).filter((m) => m !== undefined) : fix(data, pending);
      // Nothing replaced: the server's own bytes go on (no second serialisation of a large answer).
      const same = Array.isArray(data) ? Array.isArray(fixed) && fixed.length === data.length && fixed.every((m, i) => m === data[i]) : fixed === data;
      return new Response(same ? text : JSON.stringify(fixed ?? []), { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    if (type !== 'text/event-stream') return res;
    const sse = new SseSplitter();
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
    const checked = paced(res.body!, inflow).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          for (const raw of sse.push(decoder.decode(chunk, { stream: true }))) {
            const written = event(raw);
            if (written !== '') out.enqueue(encoder.encode(written));
          }
        },
        flush(out) {
          // The decoder's last bytes (a split character) first, then what the end completes.
          for (const raw of [...sse.push(decoder.decode()), ...sse.end()]) {
            const written = event(raw);
            if (written !== '') out.enqueue(encoder.encode(written));
          }
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
