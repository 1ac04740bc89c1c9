import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * Backpressure from the agent to the servers. An agent-side transport says how many bytes it
 * has queued for the agent and when they drained; the gateway waits for the drain before a
 * notification counts as delivered, and an upstream with too many undelivered notifications
 * stops being read (a stdio child then blocks on its own write, an HTTP response stream is not
 * pulled), so a server writing faster than the agent reads costs bounded memory.
 */
export interface AgentChannel {
  /** Bytes written toward the agent and not yet taken by it. */
  readonly queuedBytes: number;
  /** Resolves once `queuedBytes` is at most `bytes` again (or the channel is gone). */
  whenDrained(bytes: number): Promise<void>;
  /** Where the gateway's warnings about this connection go. */
  warn(message: string): void;
}

export function agentChannelOf(transport: object): AgentChannel | undefined {
  const t = transport as Partial<AgentChannel>;
  return typeof t.whenDrained === 'function' && typeof t.warn === 'function' ? (transport as AgentChannel) : undefined;
}

/** Over this many bytes queued for the agent a notification waits for the drain before it counts as delivered. */
export const AGENT_HIGH_WATER_BYTES = 256 * 1024;
/** Over this many bytes queued for one agent connection, notifications that may be dropped are (counted, warned, told). */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Notifications of one upstream on their way to the agent at most; past it the upstream is not read. */
export const MAX_IN_FLIGHT = 64;

/**
 * Notifications never dropped: progress and cancellation change what a request does, and the
 * agent's SDK relies on them; everything else (log messages, list changes...) may be.
 */
export function droppable(message: JSONRPCMessage): boolean {
  if (!('method' in message) || 'id' in message) return false;
  return message.method !== 'notifications/progress' && message.method !== 'notifications/cancelled';
}

/**
 * What one upstream sent toward the agent and was not delivered yet. Past `max` the upstream is
 * paused (`pause`, and `ready()` is pending for readers that pull); at half of it, resumed.
 */
export class Inflow {
  private pending = 0;
  private paused = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly pause: () => void = () => undefined,
    private readonly resume: () => void = () => undefined,
  ) {}

  get inFlight(): number {
    return this.pending;
  }

  track<T>(delivery: Promise<T>): Promise<T> {
    this.pending++;
    if (!this.paused && this.pending >= this.max) {
      this.paused = true;
      this.pause();
    }
    return delivery.finally(() => {
      this.pending--;
      if (this.paused && this.pending <= this.max / 2) {
        this.paused = false;
        this.resume();
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  /** Resolves when the upstream may be read again (at once when it is not paused). */
  ready(): Promise<void> | undefined {
    return this.paused ? new Promise((resolve) => this.waiters.push(resolve)) : undefined;
  }
}
