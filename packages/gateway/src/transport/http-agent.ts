import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { worthWarning } from '../shared/worth-warning.js';
import type { AgentChannel } from './flow.js';

type Id = string | number;
const GET = Symbol('GET stream');

/** One SSE response toward the agent: what was handed to the SDK for it and not written to the socket yet. */
interface Stream {
  readonly res: ServerResponse;
  /** Bytes of each message handed over and not written yet, oldest first. */
  readonly pending: { bytes: number }[];
  bytes: number;
  /** The response was answered with an SSE stream (a GET can be refused: 409, 405...). */
  open: boolean;
}

const KEEPALIVE = ': keepalive';

/**
 * The agent side of one HTTP session, around the SDK's Streamable HTTP transport: it tells the
 * gateway how far the agent is behind on its SSE streams (the SDK's stream queues without a
 * bound: one message per chunk the socket has not taken), so a flood is paced by the agent as on
 * stdio. A notification for the GET stream while the agent has none open, which the SDK drops
 * without a word, is counted, warned about (1st, 10th, 100th...) and told once a GET stream opens;
 * so are the messages still queued on a GET stream the agent closed.
 */
export class HttpAgentSide implements Transport, AgentChannel {
  private readonly streams = new Map<Id | typeof GET, Stream>();
  private waiters: { bytes: number; resolve: () => void }[] = [];
  /** Notifications that never reached the agent's GET stream, and how many of them it was told about. */
  undelivered = 0;
  private told = 0;

  constructor(
    readonly inner: StreamableHTTPServerTransport,
    readonly warn: (message: string) => void,
  ) {}

  set onmessage(handler: ((message: JSONRPCMessage, extra?: MessageExtraInfo) => void) | undefined) {
    this.inner.onmessage = handler;
  }
  get onmessage(): ((message: JSONRPCMessage, extra?: MessageExtraInfo) => void) | undefined {
    return this.inner.onmessage;
  }
  set onclose(handler: (() => void) | undefined) {
    this.inner.onclose = handler;
  }
  get onclose(): (() => void) | undefined {
    return this.inner.onclose;
  }
  set onerror(handler: ((error: Error) => void) | undefined) {
    this.inner.onerror = handler;
  }
  get onerror(): ((error: Error) => void) | undefined {
    return this.inner.onerror;
  }
  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get queuedBytes(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.bytes + s.res.writableLength;
    return n;
  }

  whenDrained(bytes: number): Promise<void> {
    if (this.queuedBytes <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  private drained(): void {
    if (this.waiters.length === 0) return;
    const queued = this.queuedBytes;
    const ready = this.waiters.filter((w) => w.bytes >= queued);
    this.waiters = this.waiters.filter((w) => w.bytes < queued);
    for (const w of ready) w.resolve();
  }

  /**
   * One HTTP request of the session: a GET (the standalone stream) or a POST carrying requests
   * (their answers and related notifications come on its SSE response) is watched as it is written.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const keys: (Id | typeof GET)[] = req.method === 'GET' ? [GET] : requestIds(body);
    if (keys.length > 0) this.watch(res, keys);
    return this.inner.handleRequest(req, res, body);
  }

  private watch(res: ServerResponse, keys: (Id | typeof GET)[]): void {
    const stream: Stream = { res, pending: [], bytes: 0, open: true };
    // A second GET is refused by the SDK (409): the first stays the one.
    if (keys[0] === GET && this.streams.has(GET)) return;
    for (const k of keys) this.streams.set(k, stream);
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      if (status !== 200) stream.open = false;
      return writeHead(status, ...rest);
    }) as typeof res.writeHead;
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    // The SDK enqueues one chunk per message (and keep-alive comments); its writer takes them one by one.
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      const ok = write(chunk, ...rest);
      if (!isKeepAlive(chunk)) {
        const done = stream.pending.shift();
        if (done !== undefined) stream.bytes -= done.bytes;
      }
      this.drained();
      return ok;
    }) as typeof res.write;
    res.on('drain', () => this.drained());
    res.once('close', () => {
      for (const k of keys) if (this.streams.get(k) === stream) this.streams.delete(k);
      if (keys[0] === GET && stream.open && stream.pending.length > 0) this.lost(stream.pending.length, 'were queued on the GET stream the agent closed');
      this.drained();
    });
  }

  private lost(n: number, why: string): void {
    const before = this.undelivered;
    this.undelivered += n;
    for (let c = before + 1; c <= this.undelivered; c++) {
      if (!worthWarning(c)) continue;
      this.warn(`tooltrail gateway: ${c} notification(s) to the agent not delivered: ${why} (session ${this.sessionId ?? '?'})`);
      break;
    }
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const response = 'id' in message && !('method' in message);
    const key: Id | typeof GET | undefined = response ? (message as { id: Id }).id : (options?.relatedRequestId ?? GET);
    let stream = this.streams.get(key!);
    if (key === GET && stream !== undefined && !stream.open) stream = undefined;
    if (key === GET && stream === undefined) {
      // The SDK would drop it without a word (no event store): say so.
      this.lost(1, 'the agent has no GET stream open (Streamable HTTP drops them)');
      return;
    }
    if (stream === undefined) return this.inner.send(message, options);
    const entry = { bytes: Buffer.byteLength(JSON.stringify(message), 'utf8') + 24 };
    stream.pending.push(entry);
    stream.bytes += entry.bytes;
    try {
      await this.inner.send(message, options);
    } catch (err) {
      const i = stream.pending.indexOf(entry);
      if (i >= 0) {
        stream.pending.splice(i, 1);
        stream.bytes -= entry.bytes;
      }
      throw err;
    }
    if (key === GET && this.undelivered > this.told) await this.tell(stream);
  }

  /** The agent hears, on its GET stream, how many notifications it missed. */
  private async tell(stream: Stream): Promise<void> {
    const n = this.undelivered - this.told;
    this.told = this.undelivered;
    const data = `tooltrail gateway: ${n} notifications were not delivered: the agent had no GET stream open, or closed it with them queued`;
    const notice = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'warning', logger: 'tooltrail-gateway', data } } as JSONRPCMessage;
    const entry = { bytes: Buffer.byteLength(JSON.stringify(notice), 'utf8') + 24 };
    stream.pending.push(entry);
    stream.bytes += entry.bytes;
    await this.inner.send(notice).catch(() => undefined);
  }
}

function isKeepAlive(chunk: unknown): boolean {
  if (!(chunk instanceof Uint8Array) || chunk.length > 32) return false;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('utf8').startsWith(KEEPALIVE);
}

/** The ids of the requests in a POST body: their answers come on its response. */
function requestIds(body: unknown): Id[] {
  const all = Array.isArray(body) ? body : [body];
  return all.filter((m): m is { id: Id; method: string } => typeof m === 'object' && m !== null && 'method' in m && 'id' in m).map((m) => m.id);
}
