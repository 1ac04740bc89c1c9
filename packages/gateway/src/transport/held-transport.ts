import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { worthWarning } from '../shared/worth-warning.js';
import { AGENT_HIGH_WATER_BYTES, agentChannelOf, droppable, MAX_QUEUED_BYTES, type AgentChannel } from './flow.js';

/** What the gateway holds of an agent's messages while its servers connect, at most. */
export const MAX_HELD_MESSAGES = 64;
export const MAX_HELD_BYTES = 4 * 1024 * 1024;
/** The JSON-RPC error a message over those bounds is refused with. */
export const HELD_REFUSED_CODE = -32000;

const stderrWarn = (m: string): void => void process.stderr.write(`${m}\n`);

/**
 * Wraps an agent-side transport so the gateway can read the agent's `initialize` before any
 * Server exists: the upstreams are connected with the agent's capabilities first, then the
 * Server (with the merged capabilities) is connected to this wrapper and the held messages
 * are handed to it in order. What is held is bounded; notifications toward an agent that is
 * behind wait for it (the backpressure the upstreams see), and past a bound are dropped, said.
 */
export class HeldTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  /** The agent side closed (the agent went away, or the gateway closed the session). */
  peerClosed = false;
  onerror?: (error: Error) => void;
  private held: [JSONRPCMessage, MessageExtraInfo | undefined][] | undefined = [];
  private heldBytes = 0;
  private refused = 0;
  private readonly channel: AgentChannel | undefined;
  /** Notifications dropped because too much was queued for the agent; `told` of them the agent was told about. */
  dropped = 0;
  private told = 0;

  constructor(
    readonly inner: Transport,
    private readonly onFirstInitialize: (message: JSONRPCMessage) => void,
  ) {
    this.channel = agentChannelOf(inner);
    let asked = false;
    inner.onmessage = (message, extra) => {
      if (this.held === undefined) return this.onmessage?.(message, extra);
      if (!this.hold(message, extra)) return;
      if (!asked && 'method' in message && message.method === 'initialize') {
        asked = true;
        this.onFirstInitialize(message);
      }
    };
    inner.onclose = () => {
      // Set before the SDK's own close handler runs (it aborts every request handler's signal):
      // whoever sees that abort can tell the agent going away from the agent cancelling.
      this.peerClosed = true;
      this.onclose?.();
    };
    inner.onerror = (error) => this.onerror?.(error);
  }

  private get warn(): (message: string) => void {
    return this.channel?.warn.bind(this.channel) ?? stderrWarn;
  }

  /** Keeps a message until release(), within the bounds; one over them is refused (a request gets an error). */
  private hold(message: JSONRPCMessage, extra: MessageExtraInfo | undefined): boolean {
    const bytes = Buffer.byteLength(JSON.stringify(message), 'utf8');
    if (this.held!.length < MAX_HELD_MESSAGES && this.heldBytes + bytes <= MAX_HELD_BYTES) {
      this.held!.push([message, extra]);
      this.heldBytes += bytes;
      return true;
    }
    this.refused++;
    const why = `more than ${MAX_HELD_MESSAGES} messages or ${MAX_HELD_BYTES} bytes arrived before initialize was answered`;
    if (worthWarning(this.refused)) this.warn(`tooltrail gateway: refused ${this.refused} message(s) that arrived before initialize was answered (${why})`);
    if ('method' in message && 'id' in message) {
      const error = { jsonrpc: '2.0', id: message.id, error: { code: HELD_REFUSED_CODE, message: `tooltrail gateway: refused: ${why}; send it again once initialize is answered` } };
      void this.inner.send(error as JSONRPCMessage).catch(() => undefined);
    }
    return false;
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
    this.heldBytes = 0;
    for (const [message, extra] of held) this.onmessage?.(message, extra);
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.channel === undefined || !('method' in message) || 'id' in message) return this.inner.send(message, options);
    return this.notify(message, options, this.channel);
  }

  /**
   * A notification resolves once the agent is no more than AGENT_HIGH_WATER_BYTES behind, so a
   * server sending faster than the agent reads is paused. Past MAX_QUEUED_BYTES (what could not
   * be paused) a notification that may be dropped is, counted and warned about, and the agent
   * is told how many once it caught up. Responses, progress and cancellation are never dropped.
   */
  private async notify(message: JSONRPCMessage, options: TransportSendOptions | undefined, channel: AgentChannel): Promise<void> {
    if (channel.queuedBytes > MAX_QUEUED_BYTES && droppable(message)) {
      this.dropped++;
      if (worthWarning(this.dropped)) this.warn(`tooltrail gateway: ${this.dropped} notification(s) to the agent dropped: over ${MAX_QUEUED_BYTES} bytes were queued for it`);
      return;
    }
    await this.inner.send(message, options);
    if (channel.queuedBytes > AGENT_HIGH_WATER_BYTES) await channel.whenDrained(AGENT_HIGH_WATER_BYTES);
    if (this.dropped > this.told && channel.queuedBytes <= AGENT_HIGH_WATER_BYTES) {
      const n = this.dropped - this.told;
      this.told = this.dropped;
      const data = `tooltrail gateway: ${n} notifications were dropped: the agent read slower than its servers wrote (over ${MAX_QUEUED_BYTES} bytes were queued)`;
      await this.inner.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'warning', logger: 'tooltrail-gateway', data } }).catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }
}
