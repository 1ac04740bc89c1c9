import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

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
