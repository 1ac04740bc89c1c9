import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { AgentChannel } from './flow.js';
import { CheckedLineBuffer } from './line-reader.js';
import { MAX_MESSAGE_BYTES } from './jsonrpc-checks.js';

/**
 * The agent's side in stdio mode: newline-delimited JSON-RPC on the gateway's stdin and stdout.
 * Every bad line is answered with the JSON-RPC error the spec names (a stray response is
 * ignored); the end of stdin closes the connection; a write resolves once the agent took it,
 * and `queuedBytes` tells the gateway how far the agent is behind.
 */
export class AgentStdioTransport implements Transport, AgentChannel {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly lines: CheckedLineBuffer;
  private started = false;
  private closed = false;
  /** Writers waiting for the agent to take what is queued; released on drain, or when the channel is gone. */
  private drainWaiters: { bytes: number; resolve: () => void }[] = [];

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    readonly warn: (message: string) => void = (m) => void process.stderr.write(`${m}\n`),
  ) {
    this.lines = new CheckedLineBuffer(MAX_MESSAGE_BYTES, (p) => {
      // The id is null when the line had no usable one; a response is never answered.
      if (!p.response) this.send({ jsonrpc: '2.0', id: p.id ?? null, error: { code: p.code, message: p.problem } } as unknown as JSONRPCMessage).catch(() => undefined);
      return undefined;
    });
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('tooltrail gateway: the agent stdio transport is already started');
    this.started = true;
    this.input.on('data', this.onData);
    this.input.on('error', this.onError);
    this.input.once('end', this.onEnd);
    this.input.once('close', this.onEnd);
    this.output.on('error', this.onError);
    this.output.on('drain', this.onDrain);
    this.output.once('close', this.release);
  }

  get queuedBytes(): number {
    return this.closed ? 0 : this.output.writableLength;
  }

  whenDrained(bytes: number): Promise<void> {
    if (this.queuedBytes <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ bytes, resolve }));
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || !this.output.writable) return Promise.reject(new Error('Not connected'));
    // Resolves when the agent took it: whoever awaits sends is held back by a slow agent.
    return this.output.write(`${JSON.stringify(message)}\n`) ? Promise.resolve() : this.whenDrained(0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('error', this.onError);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    this.output.off('drain', this.onDrain);
    // Nobody else reads stdin: stop reading it, or the process would not exit.
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.lines.clear();
    this.release();
    this.onclose?.();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    this.lines.append(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    for (let m = this.lines.readMessage(); m !== null && !this.closed; m = this.lines.readMessage()) {
      try {
        this.onmessage?.(m);
      } catch (err) {
        this.onerror?.(err as Error);
      }
    }
  };

  private readonly onError = (err: Error): void => this.onerror?.(err);
  private readonly onEnd = (): void => void this.close();

  private readonly onDrain = (): void => {
    const queued = this.output.writableLength;
    const ready = this.drainWaiters.filter((w) => w.bytes >= queued);
    this.drainWaiters = this.drainWaiters.filter((w) => w.bytes < queued);
    for (const w of ready) w.resolve();
  };

  /** Nothing queued will reach the agent any more: nobody waits for it. */
  private readonly release = (): void => {
    for (const w of this.drainWaiters.splice(0)) w.resolve();
  };
}
