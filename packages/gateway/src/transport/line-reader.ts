import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { messageProblem, type MessageProblem } from './jsonrpc-checks.js';

/** A line that is not one JSON-RPC message: -32700 (not JSON, or too long to read) or -32600 (JSON, not JSON-RPC). */
export interface LineProblem extends MessageProblem {
  readonly code: number;
}

/**
 * stdio framing that says what it drops: the SDK's line buffer drops a line that is not JSON-RPC
 * without a word, and closes the whole connection on a line over its limit. This one hands each
 * bad line to `onProblem` (which may answer it, or put a message in its place) and skips a
 * line over `maxLineBytes` without keeping it, so one hostile line costs neither the memory nor
 * the connection. The gateway's own stdio transports (agent side and child side) read with it.
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
