import { spawn, type ChildProcess } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { CheckedLineBuffer, type LineProblem } from './line-reader.js';
import { MAX_MESSAGE_BYTES } from './jsonrpc-checks.js';

export interface ChildStdioOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment (not added to the gateway's). */
  readonly env: Record<string, string>;
  readonly cwd?: string;
  /** How long the child gets after stdin ends, then after SIGTERM, before the next step (default 2 s). */
  readonly graceMs?: number;
  /** A line of the child's that is not one JSON-RPC message: what to deliver in its place, if anything. */
  readonly onProblem: (problem: LineProblem) => JSONRPCMessage | undefined;
}

const POSIX = process.platform !== 'win32';

/**
 * A stdio MCP server run as the gateway's child: newline-delimited JSON-RPC on its stdin and
 * stdout, its stderr the gateway's. It runs in a process group of its own so that closing
 * stops what it started too: stdin is ended, then after a grace period the group gets SIGTERM,
 * then SIGKILL. Reading its stdout can be paused: the child then blocks on its own write.
 */
export class ChildStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private child: ChildProcess | undefined;
  private gone: Promise<void> | undefined;
  private finished = false;
  private readonly lines: CheckedLineBuffer;
  private readonly graceMs: number;

  constructor(private readonly options: ChildStdioOptions) {
    this.lines = new CheckedLineBuffer(MAX_MESSAGE_BYTES, options.onProblem);
    this.graceMs = options.graceMs ?? 2_000;
  }

  /** The child's process id, once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * The protocol version the server answered `initialize` with (the SDK's client sets it on any
   * transport that takes it), so the records name it over stdio as over HTTP.
   */
  protocolVersion: string | undefined;

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  start(): Promise<void> {
    if (this.child !== undefined) return Promise.reject(new Error('tooltrail gateway: the server process is already started'));
    const { command, args, env, cwd } = this.options;
    const child = spawn(command, [...args], { env, ...(cwd !== undefined ? { cwd } : {}), stdio: ['pipe', 'pipe', 'inherit'], detached: POSIX, shell: false, windowsHide: true });
    this.child = child;
    // 'close' comes once the child exited and its stdout is at its end: nothing more can arrive.
    this.gone = new Promise((resolve) => child.once('close', () => resolve()));
    void this.gone.then(() => this.finish());
    // What the child started may keep its stdout open after it exited: the group goes too.
    child.once('exit', () => void this.stopGroup(false));
    child.stdout!.on('data', (chunk: Buffer) => this.read(chunk));
    child.stdout!.on('error', (err) => this.onerror?.(err));
    child.stdin!.on('error', (err) => this.onerror?.(err));
    return new Promise((resolve, reject) => {
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
      child.on('error', (err) => {
        this.onerror?.(err);
        if (!spawned) reject(err);
      });
    });
  }

  pauseReading(): void {
    this.child?.stdout?.pause();
  }

  resumeReading(): void {
    this.child?.stdout?.resume();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (this.finished || stdin === undefined || stdin === null || !stdin.writable) return Promise.reject(new Error('Not connected'));
    if (stdin.write(`${JSON.stringify(message)}\n`)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.once('drain', done);
      stdin.once('close', done);
    });
  }

  /** Ends the child's stdin; after the grace period SIGTERM, then SIGKILL, to its whole group. */
  async close(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.gone === undefined) return this.finish();
    if (!this.finished) {
      try {
        child.stdin?.end();
      } catch {
        // Already closed: the child is going.
      }
      if (!(await this.within(this.gone, this.graceMs))) await this.stopGroup(true);
    }
    this.finish();
  }

  private read(chunk: Buffer): void {
    this.lines.append(chunk);
    for (let m = this.lines.readMessage(); m !== null; m = this.lines.readMessage()) {
      try {
        this.onmessage?.(m);
      } catch (err) {
        this.onerror?.(err as Error);
      }
    }
  }

  /** SIGTERM to the child's group, SIGKILL after the grace period; with `wait`, until the child is gone. */
  private async stopGroup(wait: boolean): Promise<void> {
    this.signal('SIGTERM');
    const ended = await this.within(this.gone!, this.graceMs);
    if (!ended) this.signal('SIGKILL');
    if (wait && !ended) await this.within(this.gone!, this.graceMs);
  }

  private signal(signal: NodeJS.Signals): void {
    const child = this.child!;
    try {
      if (POSIX && child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // No such process (group): nothing is left to stop.
    }
  }

  private async within(p: Promise<void>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    timer?.unref();
    try {
      return await Promise.race([p.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.lines.clear();
    this.onclose?.();
  }
}
