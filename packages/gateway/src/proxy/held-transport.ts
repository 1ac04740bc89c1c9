import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCMessage, type MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { MAX_MESSAGE_BYTES, messageProblem, type MessageProblem } from './relay.js';

/**
 * Wraps an agent-side transport so the gateway can read the agent's `initialize` before any
 * Server exists: the upstreams are connected with the agent's capabilities first, then the
 * Server (with the merged capabilities) is connected to this wrapper and the held messages
 * are handed to it in order.
 */
export class HeldTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private held: [JSONRPCMessage, MessageExtraInfo | undefined][] | undefined = [];

  constructor(
    readonly inner: Transport,
    private readonly onFirstInitialize: (message: JSONRPCMessage) => void,
  ) {
    let asked = false;
    inner.onmessage = (message, extra) => {
      if (this.held === undefined) return this.onmessage?.(message, extra);
      this.held.push([message, extra]);
      if (!asked && 'method' in message && message.method === 'initialize') {
        asked = true;
        this.onFirstInitialize(message);
      }
    };
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    // An agent's bad line gets the JSON-RPC error the spec names (id null when it had no usable
    // one); a stray response is ignored, as the spec says a response is never answered.
    if (inner instanceof StdioServerTransport) {
      checkLines(
        inner,
        new CheckedLineBuffer(MAX_MESSAGE_BYTES, (p) => {
          if (!p.response) void inner.send({ jsonrpc: '2.0', id: p.id ?? null, error: { code: p.code, message: p.problem } } as unknown as JSONRPCMessage).catch(() => undefined);
          return undefined;
        }),
      );
    }
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  /** The inner transport is started by whoever created it; the Server's start() is a no-op. */
  async start(): Promise<void> {}

  /** Hands the held messages to the connected Server and passes everything through from now on. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [message, extra] of held) this.onmessage?.(message, extra);
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }
}

/** A line that is not one JSON-RPC message: -32700 (not JSON, or too long to read) or -32600 (JSON, not JSON-RPC). */
export interface LineProblem extends MessageProblem {
  readonly code: number;
}

/**
 * stdio framing that says what it drops: the SDK's line buffer drops a line that is not JSON-RPC
 * without a word, and closes the whole connection on a line over its limit. This one hands each
 * bad line to `onProblem` (which may answer it, or put a message in its place) and skips a
 * line over `maxLineBytes` without keeping it, so one hostile line costs neither the memory nor
 * the connection. Same shape as the SDK's ReadBuffer, which it replaces on the SDK's transports.
 */
export class CheckedLineBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;
  private readonly lines: (Buffer | null)[] = [];

  constructor(
    private readonly maxLineBytes: number,
    private readonly onProblem: (problem: LineProblem) => JSONRPCMessage | undefined,
  ) {}

  append(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, nl);
      // null: the line was over the limit and was skipped.
      this.lines.push(this.skipping || this.size + piece.length > this.maxLineBytes ? null : this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece]));
      this.parts = [];
      this.size = 0;
      this.skipping = false;
      from = nl + 1;
    }
    if (from >= chunk.length || this.skipping) return;
    const rest = chunk.subarray(from);
    if (this.size + rest.length > this.maxLineBytes) {
      this.parts = [];
      this.size = 0;
      this.skipping = true;
      return;
    }
    this.parts.push(rest);
    this.size += rest.length;
  }

  readMessage(): JSONRPCMessage | null {
    for (let line = this.lines.shift(); line !== undefined; line = this.lines.shift()) {
      const replaced = this.check(line);
      if (replaced !== undefined) return replaced;
    }
    return null;
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
    this.lines.length = 0;
  }

  private check(line: Buffer | null): JSONRPCMessage | undefined {
    if (line === null) return this.onProblem({ code: ErrorCode.ParseError, problem: `a message over ${this.maxLineBytes} bytes is not read`, id: undefined, response: false });
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.onProblem({ code: ErrorCode.ParseError, problem: 'Parse error: the line is not JSON', id: undefined, response: false });
    }
    const problem = messageProblem(raw);
    return problem === undefined ? (raw as JSONRPCMessage) : this.onProblem({ ...problem, code: ErrorCode.InvalidRequest });
  }
}

/** Puts a CheckedLineBuffer in place of the line buffer of one of the SDK's stdio transports (1.32: `_readBuffer`). */
export function checkLines(transport: Transport, buffer: CheckedLineBuffer): void {
  const t = transport as unknown as { _readBuffer?: unknown };
  if (t._readBuffer === undefined) throw new Error('tooltrail gateway: the MCP SDK stdio transport has no line buffer to check (SDK changed?)');
  t._readBuffer = buffer;
}
